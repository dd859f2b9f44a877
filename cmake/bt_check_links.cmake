# @file bt_check_links.cmake
# @brief Fails if a relative link of README.md or docs/*.md names a file that does not
#        exist (links to web pages and in-page anchors are not checked).
# Usage: cmake -DROOT=<source dir> -P bt_check_links.cmake
file(GLOB docs "${ROOT}/README.md" "${ROOT}/docs/*.md")
set(bad "")
set(n 0)
foreach(doc IN LISTS docs)
  get_filename_component(dir "${doc}" DIRECTORY)
  file(READ "${doc}" text)
  # Square brackets and semicolons would confuse CMake's list splitting: replace them.
  string(REPLACE "[" "<" text "${text}")
  string(REPLACE "]" ">" text "${text}")
  string(REPLACE ";" "," text "${text}")
  # Markdown links: ](target) with no space in the target, now >(target).
  string(REGEX MATCHALL ">\\([^) ]+\\)" links "${text}")
  foreach(link IN LISTS links)
    string(REGEX REPLACE "^>\\(([^) ]+)\\)$" "\\1" target "${link}")
    if(target MATCHES "^[a-z]+:" OR target MATCHES "^#")
      continue()
    endif()
    string(REGEX REPLACE "#.*$" "" target "${target}")
    math(EXPR n "${n} + 1")
    if(NOT EXISTS "${dir}/${target}")
      file(RELATIVE_PATH rel "${ROOT}" "${doc}")
      list(APPEND bad "${rel}: ${target}")
    endif()
  endforeach()
endforeach()
if(bad)
  list(JOIN bad "\n  " bad)
  message(FATAL_ERROR "broken links:\n  ${bad}")
endif()
message(STATUS "${n} relative links checked")
