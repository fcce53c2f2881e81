# cmake -DFILE=F -DSHA256=H -P sha256.cmake: fails unless F's SHA-256 is H.
file(SHA256 "${FILE}" got)
if(NOT got STREQUAL SHA256)
  message(FATAL_ERROR "${FILE} changed (SHA-256 ${got}, frozen ${SHA256}): the 1.0 copy is never edited")
endif()
