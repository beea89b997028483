# Fails when code outside core/ (and the simulator, which plays Railway's lifecycles) decides on
# Railway statuses itself, by a switch case or a comparison on DeploymentStatus values: groups,
# outcomes and labels are decided once, in core/deployment_status (docs/STATUSES.md). Run by ctest
# as lint.status_groups_in_core.
cmake_policy(SET CMP0007 NEW)
# file(STRINGS) splits a line at each ";": a match is looked for in each piece, which is enough here.
file(GLOB_RECURSE files ${SRC_DIR}/*.hpp ${SRC_DIR}/*.cpp)
set(problems "")
foreach(file IN LISTS files)
  if(file MATCHES "^${SRC_DIR}/(core|sim)/")
    continue()
  endif()
  file(STRINGS ${file} lines)
  foreach(line IN LISTS lines)
    if(line MATCHES "case[ \t]+(core::)?DeploymentStatus::k|[=!]=[ \t]*(core::)?DeploymentStatus::k|DeploymentStatus::k[A-Za-z]+[ \t]*[=!]=")
      list(APPEND problems "${file}: ${line}")
    endif()
  endforeach()
endforeach()
if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "decide on statuses with core's functions (GroupOf, OutcomeOf, ReachedDeploy, StatusLabel, "
                      "...), not by listing them:\n  ${text}")
endif()
list(LENGTH files count)
message(STATUS "status groups are decided in core: ${count} files checked")
