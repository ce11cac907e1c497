// JS errors for failed system calls: message "<op>: <ERRNO_NAME>", plus .op, .code (errno name) and .errno.
#pragma once
#include <napi.h>
#include <cstring>
#include <string>

inline Napi::Error ErrnoError(Napi::Env env, const std::string& op, int err) {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : ("E" + std::to_string(err));
  Napi::Error e = Napi::Error::New(env, op + ": " + code + " (" + strerror(err) + ")");
  e.Set("op", Napi::String::New(env, op));
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

inline Napi::Value ThrowErrno(Napi::Env env, const std::string& op, int err) {
  ErrnoError(env, op, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Argument errors are programming mistakes in the TypeScript wrapper, not system failures.
inline Napi::Value ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}
