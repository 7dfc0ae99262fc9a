# Build-wide settings: compiler cache, warnings, sanitizers.

# ccache, when installed. Every build folder (build/default, build/lab01, ...) shares one cache:
# paths are rewritten relative to the source tree (base_dir) and the build folder is left out of
# the hash (hash_dir=false), so a lab build recompiles only the module it swaps and its dependents.
find_program(AVANT_CCACHE ccache)
if(AVANT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(_avant_launcher ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
                      CCACHE_NOHASHDIR=1 ${AVANT_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${_avant_launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_avant_launcher})
  message(STATUS "avant: compiling through ccache (${AVANT_CCACHE})")
endif()

# Warnings live on an interface target that every Avant target links privately, not in global
# flags, so that third-party code (llhttp, generated protobuf code) is not held to them.
add_library(avant_warnings INTERFACE)
add_library(avant::warnings ALIAS avant_warnings)
target_compile_options(avant_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${AVANT_WERROR}>:-Werror>)

# Sanitizers, chosen by the presets: AVANT_SANITIZE=address;undefined or thread.
set(AVANT_SANITIZE "" CACHE STRING "Sanitizers to build with: address;undefined, thread, or empty")
if(AVANT_SANITIZE)
  list(JOIN AVANT_SANITIZE "," _avant_san)
  add_compile_options(-fsanitize=${_avant_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_avant_san})
  message(STATUS "avant: sanitizers ${_avant_san}")
endif()
