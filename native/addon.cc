// Module entry: each source file contributes its functions through an Init hook.
#include <napi.h>

Napi::Object InitEventfd(Napi::Env env, Napi::Object exports);
Napi::Object InitNetif(Napi::Env env, Napi::Object exports);
Napi::Object InitFdWatch(Napi::Env env, Napi::Object exports);
Napi::Object InitAfPacket(Napi::Env env, Napi::Object exports);
Napi::Object InitTcpQuickAck(Napi::Env env, Napi::Object exports);
Napi::Object InitStreamFd(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitEventfd(env, exports);
  InitNetif(env, exports);
  InitFdWatch(env, exports);
  InitAfPacket(env, exports);
  InitTcpQuickAck(env, exports);
  InitStreamFd(env, exports);
  return exports;
}

NODE_API_MODULE(onionplane_native, Init)
