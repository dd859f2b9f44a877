# @file bt_check_exports.cmake
# @brief Fails if the shared library exports a defined symbol without the bt_ prefix.
# Usage: cmake -DNM=nm -DLIB=libbordertrack.so -P bt_check_exports.cmake
execute_process(COMMAND ${NM} -D --defined-only ${LIB}
                OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${LIB} failed (${rc}): ${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(good 0)
foreach(line IN LISTS lines)
  # "<address> <type> <name>", the name possibly with a @version suffix.
  if(NOT line MATCHES "^[0-9a-fA-F]* *[A-Za-z] +([^ @]+)")
    continue()
  endif()
  set(name "${CMAKE_MATCH_1}")
  if(name MATCHES "^bt_[a-z0-9_]+$")
    math(EXPR good "${good} + 1")
  elseif(name MATCHES "^(_init|_fini|_edata|_end|__bss_start)$")
    # Defined by the linker in every shared object (section bounds, init/fini), not
    # by our code.
  else()
    list(APPEND bad "${name}")
  endif()
endforeach()
if(bad)
  list(JOIN bad ", " bad)
  message(FATAL_ERROR "${LIB} exports symbols without the bt_ prefix: ${bad}")
endif()
if(good EQUAL 0)
  message(FATAL_ERROR "${LIB} exports no bt_ symbol at all (visibility broken?)")
endif()
message(STATUS "${LIB}: ${good} exported symbols, all bt_*")
