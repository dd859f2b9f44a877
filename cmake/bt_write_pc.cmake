# @file bt_write_pc.cmake
# @brief Writes bordertrack.pc at install time.
#
# Run from install(CODE) in the top-level CMakeLists.txt. At that point
# CMAKE_INSTALL_PREFIX is the prefix really installed to (it follows
# `cmake --install --prefix DIR`), while a file configured at configure time would keep
# the configure-time prefix. Inputs: BT_PC_IN, BT_PC_OUT, BT_LIBDIR, BT_INCLUDEDIR,
# BT_PC_VERSION.
#
# As GEOS's tools/CMakeLists.txt does, libdir and includedir are written relative to
# ${prefix} when CMAKE_INSTALL_LIBDIR / INCLUDEDIR are relative, and verbatim when they
# are absolute (e.g. -DCMAKE_INSTALL_LIBDIR=/usr/lib64).
set(BT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
if(IS_ABSOLUTE "${BT_LIBDIR}")
  set(BT_PC_LIBDIR "${BT_LIBDIR}")
else()
  set(BT_PC_LIBDIR "\${exec_prefix}/${BT_LIBDIR}")
endif()
if(IS_ABSOLUTE "${BT_INCLUDEDIR}")
  set(BT_PC_INCLUDEDIR "${BT_INCLUDEDIR}")
else()
  set(BT_PC_INCLUDEDIR "\${prefix}/${BT_INCLUDEDIR}")
endif()
configure_file("${BT_PC_IN}" "${BT_PC_OUT}" @ONLY)
