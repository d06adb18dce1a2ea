# garret_layer(NAME DEPS dep...): one static library per folder under src/,
# built from every .cpp in it (subfolders included). Public headers are
# included as "<layer>/<file>.h" relative to src/.
function(garret_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(sources)
    add_library(garret_${name} STATIC ${sources})
    set(scope PUBLIC)
  else()
    add_library(garret_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(garret::${name} ALIAS garret_${name})
  target_include_directories(garret_${name} ${scope} ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(garret_${name} ${scope} ${ARG_DEPS})
endfunction()

# garret_unit_tests(LAYER): one GoogleTest binary from tests/unit/<layer>/*.cpp.
function(garret_unit_tests layer)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/${layer}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(unit_${layer} ${sources})
  target_link_libraries(unit_${layer} PRIVATE garret::${layer} garret_test_support GTest::gtest_main GTest::gmock)
  gtest_discover_tests(unit_${layer} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()
