// Sanitizer defaults for the fuzz targets. UBSan otherwise reports and
// carries on, so a run with undefined behaviour would still pass; halting
// makes every report fail the target. Only read when the UBSan runtime is
// linked in; ASAN_OPTIONS/UBSAN_OPTIONS still override.

extern "C" __attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}
