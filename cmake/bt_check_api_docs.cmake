# @file bt_check_api_docs.cmake
# @brief Fails if a public function of include/bordertrack.h (a declaration that
#        starts with BT_API) is not named in docs/api.md, so that the API guide keeps
#        up with the header.
# Usage: cmake -DROOT=<source dir> -P bt_check_api_docs.cmake
file(READ "${ROOT}/include/bordertrack.h" header)
file(READ "${ROOT}/docs/api.md" guide)
# Semicolons would split CMake lists in the middle of a declaration: drop them.
string(REPLACE ";" " " header "${header}")
# A declaration: BT_API, then the return type, then the name and its '('. The
# #define lines of BT_API are not followed by a type and a '(' on the same line.
string(REGEX MATCHALL "BT_API [^(\n]*[ *]bt_[a-z0-9_]+\\(" decls "${header}")
set(names "")
foreach(decl IN LISTS decls)
  string(REGEX REPLACE "^.*[ *](bt_[a-z0-9_]+)\\($" "\\1" name "${decl}")
  list(APPEND names "${name}")
endforeach()
list(REMOVE_DUPLICATES names)
list(LENGTH names n)
if(n EQUAL 0)
  message(FATAL_ERROR "no BT_API function found in include/bordertrack.h")
endif()
set(missing "")
foreach(name IN LISTS names)
  # The name as a whole word followed by '(' or a closing backquote, as api.md writes
  # calls: `bt_x(...)` or `bt_x`; "bt_incident_query_all(" does not count for
  # "bt_incident_query".
  string(REGEX MATCH "(^|[^a-z0-9_])${name}[(`]" found "${guide}")
  if(NOT found)
    list(APPEND missing "${name}")
  endif()
endforeach()
if(missing)
  list(LENGTH missing nmissing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "${nmissing} of ${n} public functions are not in docs/api.md:\n  ${missing}")
endif()
message(STATUS "all ${n} public functions of bordertrack.h are in docs/api.md")
