// Module entry: each source file contributes its functions through an Init hook.
#include <napi.h>

Napi::Object InitEventfd(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitEventfd(env, exports);
  return exports;
}

NODE_API_MODULE(onionplane_native, Init)
