# The chapter table and the lab mechanism (docs/testing.md, "The lab mechanism").
#
# Every layer of Avant is a chapter NN with a topic and the modules (src/<module>/) it teaches. A
# lab (labs/NN-<topic>/starter/) holds files at the same relative paths as the reference files it
# replaces. When chapter NN is listed in AVANT_LAB, each module of that chapter is built from the
# starter's files where the starter has them and from src/ where it does not; the module's public
# header folder (include/) is swapped whole or not at all, so no build mixes two versions of one
# header. Tests are the same in both builds: `ctest -L chNN` grades whichever code was built.
#
#   avant_chapter(NN topic MODULES m...)      declare a chapter (done once, below)
#   avant_add_module(m CHAPTER NN SOURCES ... [PUBLIC_LINK ...] [PRIVATE_LINK ...])
#   avant_add_gtest(NN KIND kind SOURCES ... [LINK ...] [TIMEOUT s])
#   avant_add_script_test(NN NAME Suite.Case KIND kind COMMAND ... [TIMEOUT s])
#
# Each chapter also gets a target `avant_chNN` that builds everything its tests need, so that
# `cmake --build <dir> --target avant_ch01` (what labs/check uses) builds one chapter only.

set(AVANT_TEST_KINDS unit integration e2e conformance stress)

function(avant_chapter nn topic)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "MODULES")
  if(NOT nn MATCHES "^[0-9][0-9]$")
    message(FATAL_ERROR "avant_chapter: '${nn}' is not a two-digit chapter number")
  endif()
  set_property(GLOBAL APPEND PROPERTY AVANT_CHAPTERS ${nn})
  set_property(GLOBAL PROPERTY AVANT_CHAPTER_${nn}_TOPIC ${topic})
  foreach(m IN LISTS arg_MODULES)
    set_property(GLOBAL PROPERTY AVANT_MODULE_${m}_CHAPTER ${nn})
  endforeach()
  add_custom_target(avant_ch${nn})
endfunction()

# --- The chapters, in the order of README.md's table. A chapter is listed once it has code. ---
avant_chapter(01 sockets MODULES net)
avant_chapter(02 reactor MODULES reactor tcp)
avant_chapter(03 threads MODULES thread)
avant_chapter(04 tls MODULES tls)
avant_chapter(05 http MODULES http)
avant_chapter(06 websocket MODULES websocket)
avant_chapter(07 protobuf-framing MODULES proto)
avant_chapter(08 udp MODULES udp)
avant_chapter(09 ipc MODULES ipc)

# --- Resolve AVANT_LAB into the set of chapters built from their starter. ---
get_property(_avant_chapters GLOBAL PROPERTY AVANT_CHAPTERS)
set(_avant_labs "")
foreach(nn IN LISTS _avant_chapters)
  get_property(_topic GLOBAL PROPERTY AVANT_CHAPTER_${nn}_TOPIC)
  if(IS_DIRECTORY "${PROJECT_SOURCE_DIR}/labs/${nn}-${_topic}/starter")
    list(APPEND _avant_labs ${nn})
  endif()
endforeach()
set(AVANT_LABS_AVAILABLE "${_avant_labs}" CACHE INTERNAL "chapters that have a lab starter")

set(AVANT_LAB_CHAPTERS "")
string(REPLACE "," ";" _avant_lab_request "${AVANT_LAB}")
foreach(req IN LISTS _avant_lab_request)
  string(STRIP "${req}" req)
  if(req STREQUAL "")
    continue()
  elseif(req STREQUAL "all")
    list(APPEND AVANT_LAB_CHAPTERS ${_avant_labs})
  elseif(req MATCHES "^[0-9]$")
    list(APPEND AVANT_LAB_CHAPTERS 0${req})
  elseif(req MATCHES "^[0-9][0-9]$")
    list(APPEND AVANT_LAB_CHAPTERS ${req})
  else()
    message(FATAL_ERROR "AVANT_LAB: '${req}' is not a chapter number (use e.g. 01, 01;05, all)")
  endif()
endforeach()
list(REMOVE_DUPLICATES AVANT_LAB_CHAPTERS)
foreach(nn IN LISTS AVANT_LAB_CHAPTERS)
  if(NOT nn IN_LIST _avant_labs)
    message(FATAL_ERROR "AVANT_LAB: chapter ${nn} has no lab (labs with a starter: ${_avant_labs})")
  endif()
endforeach()
if(AVANT_LAB_CHAPTERS)
  message(STATUS "avant: lab chapters built from their starter: ${AVANT_LAB_CHAPTERS}")
endif()

function(avant_add_module name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC_LINK;PRIVATE_LINK")
  get_property(nn GLOBAL PROPERTY AVANT_MODULE_${name}_CHAPTER)
  if(NOT nn)
    message(FATAL_ERROR "avant_add_module(${name}): no chapter lists this module")
  endif()
  get_property(topic GLOBAL PROPERTY AVANT_CHAPTER_${nn}_TOPIC)
  set(ref_root "${PROJECT_SOURCE_DIR}/src/${name}")
  set(include_root "${ref_root}/include")
  set(sources "")
  set(origin "reference")

  if(nn IN_LIST AVANT_LAB_CHAPTERS)
    set(starter_root "${PROJECT_SOURCE_DIR}/labs/${nn}-${topic}/starter/src/${name}")
    set(origin "starter labs/${nn}-${topic}")
    if(IS_DIRECTORY "${starter_root}/include")
      set(include_root "${starter_root}/include")
    endif()
    # A starter file the module does not list would silently be ignored: refuse it instead.
    file(GLOB_RECURSE starter_files RELATIVE "${starter_root}" "${starter_root}/*")
    foreach(f IN LISTS starter_files)
      if(NOT f MATCHES "^include/" AND NOT f IN_LIST arg_SOURCES AND NOT EXISTS "${ref_root}/${f}")
        message(FATAL_ERROR "labs/${nn}-${topic}/starter/src/${name}/${f} replaces no source of "
                            "module ${name} (its sources: ${arg_SOURCES})")
      endif()
    endforeach()
  endif()

  foreach(src IN LISTS arg_SOURCES)
    if(starter_root AND EXISTS "${starter_root}/${src}")
      list(APPEND sources "${starter_root}/${src}")
    else()
      list(APPEND sources "${ref_root}/${src}")
    endif()
  endforeach()

  add_library(avant_${name} STATIC ${sources})
  add_library(avant::${name} ALIAS avant_${name})
  target_include_directories(avant_${name} PUBLIC "${include_root}")
  # Private headers next to the sources ("timer_queue.hpp"): the starter's first, then the
  # reference's, so a starter that replaces only some files still finds the others.
  if(starter_root)
    target_include_directories(avant_${name} PRIVATE "${starter_root}")
  endif()
  target_include_directories(avant_${name} PRIVATE "${ref_root}")
  target_link_libraries(avant_${name} PUBLIC ${arg_PUBLIC_LINK}
                                      PRIVATE avant::warnings ${arg_PRIVATE_LINK})
  set_property(GLOBAL APPEND PROPERTY AVANT_MODULES ${name})
  message(STATUS "avant: module ${name} (chapter ${nn}) from ${origin}")
endfunction()

function(_avant_check_kind kind)
  if(NOT kind IN_LIST AVANT_TEST_KINDS)
    message(FATAL_ERROR "test kind '${kind}' is not one of: ${AVANT_TEST_KINDS}")
  endif()
endfunction()

# One GoogleTest executable per chapter and kind. Its tests are named NN.<Suite>.<Case> and carry
# the labels chNN and the kind, and each has a timeout.
function(avant_add_gtest nn)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "KIND;TIMEOUT" "SOURCES;LINK")
  _avant_check_kind(${arg_KIND})
  if(NOT arg_TIMEOUT)
    # Unit tests are short: a hang should show within seconds, not after a minute.
    if(arg_KIND STREQUAL "unit")
      set(arg_TIMEOUT 20)
    else()
      set(arg_TIMEOUT 60)
    endif()
  endif()
  # Sanitized code runs several times slower: the same tests get proportionally more time.
  if(AVANT_SANITIZE)
    math(EXPR arg_TIMEOUT "${arg_TIMEOUT} * 3")
  endif()
  set(target test_${nn}_${arg_KIND})
  add_executable(${target} ${arg_SOURCES})
  target_link_libraries(${target} PRIVATE ${arg_LINK} avant::test_support GTest::gmock
                                          GTest::gtest_main avant::warnings)
  # gtest_discover_tests flattens list-valued properties, so it sets the kind label only; the
  # chapter label comes from the LABELS property of the test folder, which ctest adds to every
  # test defined in it.
  gtest_discover_tests(${target}
    TEST_PREFIX "${nn}."
    PROPERTIES LABELS ${arg_KIND} TIMEOUT ${arg_TIMEOUT}
               ENVIRONMENT AVANT_TEST_TIMEOUT=${arg_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
  get_property(folder_labels DIRECTORY PROPERTY LABELS)
  if(NOT "ch${nn}" IN_LIST folder_labels)
    set_property(DIRECTORY APPEND PROPERTY LABELS ch${nn})
  endif()
  add_dependencies(avant_ch${nn} ${target})
endfunction()

# A test driven by a script (a real client such as python3's socket, curl, openssl s_client).
function(avant_add_script_test nn)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "NAME;KIND;TIMEOUT" "COMMAND;DEPENDS")
  _avant_check_kind(${arg_KIND})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 60)
  endif()
  add_test(NAME ${nn}.${arg_NAME} COMMAND ${arg_COMMAND})
  set_tests_properties(${nn}.${arg_NAME} PROPERTIES LABELS "ch${nn};${arg_KIND}"
                                                    TIMEOUT ${arg_TIMEOUT})
  if(arg_DEPENDS)
    add_dependencies(avant_ch${nn} ${arg_DEPENDS})
  endif()
endfunction()
