# @file bt_package_tests.cmake
# @brief Tests of the build products as users see them: exported symbols, the
#        installed package (CMake and pkg-config consumers), the demo program and the
#        README example. Included from the top-level CMakeLists.txt when tests are on.

# Every symbol the shared library exports must carry the public prefix bt_: the library
# is built with hidden visibility and BT_API marks the exceptions.
add_test(NAME package_exports
  COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DLIB=$<TARGET_FILE:bordertrack>
          -P ${PROJECT_SOURCE_DIR}/cmake/bt_check_exports.cmake)
set_tests_properties(package_exports PROPERTIES LABELS "package")

# Install to a temporary prefix and build out-of-tree consumers with find_package and
# with pkg-config (shared and static). Needs relative install dirs: with an absolute
# CMAKE_INSTALL_LIBDIR, `cmake --install --prefix` cannot relocate the install.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(STATUS "bordertrack: absolute install dirs, test package_install not added")
else()
  set(BT_CONSUMER_FLAGS "")
  if(BT_SANITIZE)
    # The installed library is instrumented: consumers must link the sanitizer runtimes.
    set(BT_CONSUMER_FLAGS "-fsanitize=address,undefined -fno-omit-frame-pointer")
  endif()
  add_test(NAME package_install
    COMMAND ${PROJECT_SOURCE_DIR}/tests/install/run_install_test.sh
            ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}/tests/install/consumer
            ${CMAKE_INSTALL_LIBDIR} ${CMAKE_INSTALL_INCLUDEDIR} ${PROJECT_VERSION}
            ${CMAKE_C_COMPILER} "${BT_CONSUMER_FLAGS}")
  # Installs the whole build tree, so it must run after every target is built (ctest
  # runs after the build) and it takes a few seconds of configure time.
  set_tests_properties(package_install PROPERTIES LABELS "install" TIMEOUT 300)
endif()

# The demo prints a fixed table (its store lives in a temporary directory); its whole
# output is compared with examples/hyesan_demo.expected, whose distances were computed
# independently (Vincenty's inverse formula, see that file).
if(BT_BUILD_EXAMPLES)
  add_test(NAME example_hyesan_demo
    COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:hyesan_demo>
            -DEXPECTED=${PROJECT_SOURCE_DIR}/examples/hyesan_demo.expected
            -DVERSION=${PROJECT_VERSION}
            -P ${PROJECT_SOURCE_DIR}/cmake/bt_run_compare.cmake)
  set_tests_properties(example_hyesan_demo PROPERTIES LABELS "example")
endif()

# The API example of README.md, compiled exactly as it appears there (extracted between
# its marker comments at build time) and run.
set(BT_README_C ${PROJECT_BINARY_DIR}/readme/readme_example.c)
add_custom_command(OUTPUT ${BT_README_C}
  COMMAND ${CMAKE_COMMAND} -DIN=${PROJECT_SOURCE_DIR}/README.md -DOUT=${BT_README_C}
          -P ${PROJECT_SOURCE_DIR}/cmake/bt_extract_readme.cmake
  DEPENDS ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/cmake/bt_extract_readme.cmake
  COMMENT "Extracting the API example from README.md")
add_executable(readme_example ${BT_README_C})
target_link_libraries(readme_example PRIVATE bordertrack)
target_compile_options(readme_example PRIVATE ${BT_WARNINGS})
add_test(NAME readme_example
  COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:readme_example>
          -DEXPECTED=${PROJECT_SOURCE_DIR}/tests/readme_example.expected
          -DVERSION=${PROJECT_VERSION}
          -DSTORE_ARG=ON -P ${PROJECT_SOURCE_DIR}/cmake/bt_run_compare.cmake)
set_tests_properties(readme_example PROPERTIES LABELS "docs")

# The API reference builds without a Doxygen warning (undocumented declarations or
# struct members, broken links, bad commands in
# the header's comments). Output in the build tree; needs doxygen (make deps).
if(BT_DOXYGEN)
  add_test(NAME docs_doxygen
    COMMAND ${CMAKE_COMMAND} -E env BT_DOXYGEN_OUT=${PROJECT_BINARY_DIR}/doxygen-test
            BT_DOXYGEN_VERSION=${PROJECT_VERSION} ${BT_DOXYGEN} Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(docs_doxygen PROPERTIES LABELS "docs")
endif()

# Relative links of README.md and docs/*.md point at files that exist.
add_test(NAME docs_links
  COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR}
          -P ${PROJECT_SOURCE_DIR}/cmake/bt_check_links.cmake)
set_tests_properties(docs_links PROPERTIES LABELS "docs")

# Every public function of the header (each BT_API declaration) is named in
# docs/api.md.
add_test(NAME docs_api_complete
  COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR}
          -P ${PROJECT_SOURCE_DIR}/cmake/bt_check_api_docs.cmake)
set_tests_properties(docs_api_complete PROPERTIES LABELS "docs")
