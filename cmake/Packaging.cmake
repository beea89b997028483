# The Debian package (docs/PACKAGING.md): install rules for what the package holds, the man page
# generated from the binary's --help, and CPack's DEB generator. `make package` builds the
# railwatch and railwatch_manpage targets, then runs `cpack -G DEB` in the build directory.
include(GNUInstallDirs)

# `cmake --install` and cpack install what was built without building everything first (tests and
# benchmarks are not packaged): whoever packages builds railwatch and railwatch_manpage first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(RAILWATCH_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(RAILWATCH_MANPAGE ${PROJECT_BINARY_DIR}/railwatch.1.gz)

# railwatch(1) from the same help text as --help (scripts/gen-manpage.sh walks every subcommand).
add_custom_command(
  OUTPUT ${RAILWATCH_MANPAGE}
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/gen-manpage.sh $<TARGET_FILE:railwatch> ${RAILWATCH_MANPAGE}
  DEPENDS railwatch ${PROJECT_SOURCE_DIR}/scripts/gen-manpage.sh
  COMMENT "Generating railwatch.1 from railwatch --help"
  VERBATIM)
add_custom_target(railwatch_manpage ALL DEPENDS ${RAILWATCH_MANPAGE})

install(TARGETS railwatch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${RAILWATCH_MANPAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${RAILWATCH_PACKAGING_DIR}/railwatch.service DESTINATION lib/systemd/system)
install(FILES ${RAILWATCH_PACKAGING_DIR}/railwatch.toml DESTINATION /etc/railwatch)
install(FILES ${RAILWATCH_PACKAGING_DIR}/railwatch.default DESTINATION /etc/default RENAME railwatch
        PERMISSIONS OWNER_READ OWNER_WRITE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/openapi.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME railwatch)
set(CPACK_PACKAGE_VENDOR "railwatch")
set(CPACK_PACKAGE_CONTACT "railwatch maintainers <railwatch@example.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "railwatch follows Railway.app deployments through Railway's GraphQL API until they run or fail, "
       "and serves a REST API, a live dashboard and Prometheus metrics. The package runs it as the "
       "hardened systemd service railwatch.service (user railwatch, state in /var/lib/railwatch).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages come from dpkg-shlibdeps; the maintainer scripts need adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${RAILWATCH_PACKAGING_DIR}/conffiles ${RAILWATCH_PACKAGING_DIR}/postinst ${RAILWATCH_PACKAGING_DIR}/prerm
    ${RAILWATCH_PACKAGING_DIR}/postrm)
# Debug symbols stay in the build; the package gets a stripped binary.
set(CPACK_STRIP_FILES ON)
include(CPack)
