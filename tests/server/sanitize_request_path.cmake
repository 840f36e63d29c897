# A sanitizer build of the HTTP request path for the long fuzz (docs/serving.md), as a project
# include: cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DCMAKE_PROJECT_INCLUDE=THIS_FILE.
# ASan and UBSan on server/, serve/ and the tokenizer's encode and decode; the rest stays Release, so
# its objects come from the compiler cache of a Release build; the libraries and the CLI link the runtimes.
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL tessera_asan_targets)
function(tessera_asan_targets)
  set(_san -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer)
  foreach(t tessera_server tessera_serve)
    target_compile_options(${t} PRIVATE ${_san})
  endforeach()
  foreach(t tessera_server tessera_serve tessera_datasets tessera)
    target_link_options(${t} PRIVATE -fsanitize=address,undefined)
  endforeach()
  set(_d ${CMAKE_SOURCE_DIR}/datasets)
  set_source_files_properties(${_d}/byte_unicode.cpp ${_d}/pretokenize.cpp ${_d}/tokenizer.cpp ${_d}/tokenizer_gpt2.cpp
                              DIRECTORY ${_d} PROPERTIES COMPILE_OPTIONS "${_san}")
endfunction()
