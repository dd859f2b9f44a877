# @file bt_extract_readme.cmake
# @brief Extracts the C example of README.md (the fenced block between the comments
#        <!-- readme-example:begin --> and <!-- readme-example:end -->) into a file, so
#        that the test suite compiles exactly what the README shows.
# Usage: cmake -DIN=README.md -DOUT=readme_example.c -P bt_extract_readme.cmake
file(READ "${IN}" text)
string(FIND "${text}" "<!-- readme-example:begin -->" b)
string(FIND "${text}" "<!-- readme-example:end -->" e)
if(b EQUAL -1 OR e EQUAL -1 OR e LESS b)
  message(FATAL_ERROR "${IN}: readme-example markers not found")
endif()
math(EXPR blen "${e} - ${b}")
string(SUBSTRING "${text}" ${b} ${blen} block)
string(FIND "${block}" "```c\n" fb)
string(FIND "${block}" "\n```" fe REVERSE)
if(fb EQUAL -1 OR fe EQUAL -1 OR fe LESS fb)
  message(FATAL_ERROR "${IN}: no ```c fenced block between the readme-example markers")
endif()
math(EXPR start "${fb} + 5")
math(EXPR len "${fe} - ${start} + 1")
string(SUBSTRING "${block}" ${start} ${len} code)
file(WRITE "${OUT}.tmp" "${code}")
# Only touch the output when it changed, so an unrelated README edit rebuilds nothing.
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
file(REMOVE "${OUT}.tmp")
