// eventfd create/signal/clear: the wakeup primitive between worker threads and the main loop.
#include <napi.h>
#include "errno_error.h"
#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>

// Reads the fd argument; throws (and returns -1) unless it is a non-negative integer.
static int FdArg(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) {
    ThrowType(info.Env(), "fd must be a number");
    return -1;
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd < 0) ThrowErrno(info.Env(), "fd", EBADF);
  return fd;
}

static Napi::Value EventfdCreate(const Napi::CallbackInfo& info) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

static Napi::Value EventfdSignal(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  uint64_t one = 1;
  if (write(fd, &one, sizeof one) < 0 && errno != EAGAIN) return ThrowErrno(info.Env(), "eventfd_write", errno);
  return info.Env().Undefined();
}

static Napi::Value EventfdClear(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  uint64_t v = 0;
  ssize_t n = read(fd, &v, sizeof v);
  if (n < 0 && errno != EAGAIN) return ThrowErrno(info.Env(), "eventfd_read", errno);
  return Napi::Number::New(info.Env(), n < 0 ? 0 : static_cast<double>(v));
}

static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  if (close(fd) < 0) return ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

Napi::Object InitEventfd(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdCreate", Napi::Function::New(env, EventfdCreate));
  exports.Set("eventfdSignal", Napi::Function::New(env, EventfdSignal));
  exports.Set("eventfdClear", Napi::Function::New(env, EventfdClear));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  return exports;
}
