# @file bt_run_compare.cmake
# @brief Runs a program and compares its standard output, line by line, with a file.
# Usage: cmake -DEXE=prog -DEXPECTED=file [-DVERSION=x.y.z] [-DSTORE_ARG=ON]
#        -P bt_run_compare.cmake
# "@BT_VERSION@" in the expected file stands for VERSION.
# With STORE_ARG, the program gets a store path in a fresh temporary directory as its
# argument; the directory is removed afterwards.
set(args "")
if(STORE_ARG)
  string(RANDOM LENGTH 12 ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789" rnd)
  set(tmpdir "$ENV{TMPDIR}")
  if(tmpdir STREQUAL "")
    set(tmpdir "/tmp")
  endif()
  set(tmpdir "${tmpdir}/bt-run-${rnd}")
  file(MAKE_DIRECTORY "${tmpdir}")
  set(args "${tmpdir}/store.db")
endif()
execute_process(COMMAND ${EXE} ${args} OUTPUT_VARIABLE out ERROR_VARIABLE err
                RESULT_VARIABLE rc)
if(STORE_ARG)
  file(REMOVE_RECURSE "${tmpdir}")
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
file(READ "${EXPECTED}" want)
string(REPLACE "@BT_VERSION@" "${VERSION}" want "${want}")
if(NOT out STREQUAL want)
  file(WRITE "${EXE}.actual" "${out}")
  message(FATAL_ERROR "output of ${EXE} differs from ${EXPECTED}\n--- got:\n${out}\n"
                      "--- expected:\n${want}\n(saved as ${EXE}.actual; stderr: ${err})")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "${EXE} wrote to stderr:\n${err}")
endif()
message(STATUS "${EXE}: output matches ${EXPECTED}")
