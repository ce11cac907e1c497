// Readiness of a file descriptor (packet socket, eventfd, a backend's stream socket) drives JS through libuv:
// one uv_poll handle per fd, one JS callback per readiness report. Level-triggered, so a consumer that leaves
// work behind is called again on the next loop turn; nothing spins while the fd is idle. Readable by default;
// a stream socket also asks for writable while it has bytes the kernel would not take.
#include <napi.h>
#include <uv.h>
#include "errno_error.h"

namespace {

class FdWatch : public Napi::ObjectWrap<FdWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatch",
                       {InstanceMethod("stop", &FdWatch::Stop), InstanceMethod("restart", &FdWatch::Restart),
                        InstanceMethod("ref", &FdWatch::RefLoop),
                        InstanceMethod("unref", &FdWatch::UnrefLoop),
                        InstanceMethod("setEvents", &FdWatch::SetEvents),
                        InstanceAccessor("active", &FdWatch::Active, nullptr)});
  }

  // new FdWatch(fd: number, callback: (status: number, events: number) => void, events = UV_READABLE);
  // status is 0, or a negative libuv error after which polling has stopped until restart(); events is the
  // UV_READABLE (1) / UV_WRITABLE (2) mask that is ready.
  explicit FdWatch(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FdWatch>(info), ctx_(info.Env(), "onionplane:fd-watch") {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsFunction()) {
      ThrowType(env, "FdWatch(fd: number, callback: function)");
      return;
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    if (info[2].IsNumber()) events_ = info[2].As<Napi::Number>().Int32Value() & (UV_READABLE | UV_WRITABLE);
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      ThrowErrno(env, "napi_get_uv_event_loop", EINVAL);
      return;
    }
    handle_ = new uv_poll_t;
    int rc = uv_poll_init(loop, handle_, fd);
    if (rc != 0) {  // not registered with the loop: plain delete
      delete handle_;
      handle_ = nullptr;
      ThrowErrno(env, "uv_poll_init", -rc);
      return;
    }
    rc = events_ != 0 ? uv_poll_start(handle_, events_, OnPoll) : 0;
    polling_ = rc == 0 && events_ != 0;
    if (rc != 0) {  // registered: must go through uv_close
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), OnClosed);
      handle_ = nullptr;
      ThrowErrno(env, "uv_poll_start", -rc);
      return;
    }
    handle_->data = this;
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    Ref();  // stay alive while the loop may call us
  }

  ~FdWatch() override { Close(); }

 private:
  static void OnClosed(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  static void OnPoll(uv_poll_t* h, int status, int events) {
    FdWatch* self = static_cast<FdWatch*>(h->data);
    if (status < 0) self->polling_ = false;  // libuv has stopped the handle
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->cb_.MakeCallback(env.Global(), {Napi::Number::New(env, status), Napi::Number::New(env, events)}, self->ctx_);
    if (env.IsExceptionPending()) {
      // Surface it like any other uncaught exception from an I/O callback.
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());
    }
  }

  void Close() {
    if (!handle_) return;
    uv_poll_stop(handle_);
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), OnClosed);
    handle_ = nullptr;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_) {
      Close();
      cb_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  // libuv stops a poll handle after POLLERR (the callback then sees status UV_EBADF). Once the cause is
  // cleared (e.g. the socket error read), restart() polls again with the same handle and callback.
  Napi::Value Restart(const Napi::CallbackInfo& info) {
    if (!handle_) return ThrowErrno(info.Env(), "uv_poll_start", EBADF);
    if (events_ == 0) return info.Env().Undefined();
    int rc = uv_poll_start(handle_, events_, OnPoll);
    if (rc != 0) return ThrowErrno(info.Env(), "uv_poll_start", -rc);
    polling_ = true;
    return info.Env().Undefined();
  }

  // setEvents(mask): poll for these events from now on (0: none, the handle stays open). Returns the libuv
  // status (0 or a negative error) instead of throwing: stream sockets call it on the data path.
  Napi::Value SetEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) return ThrowType(env, "setEvents(mask: number)");
    int ev = info[0].As<Napi::Number>().Int32Value() & (UV_READABLE | UV_WRITABLE);
    if (!handle_) return Napi::Number::New(env, UV_EBADF);
    events_ = ev;
    int rc = 0;
    if (ev == 0) uv_poll_stop(handle_);
    else rc = uv_poll_start(handle_, ev, OnPoll);
    polling_ = rc == 0 && ev != 0;
    return Napi::Number::New(env, rc);
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (handle_) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (handle_) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value Active(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), handle_ != nullptr && polling_);
  }

  uv_poll_t* handle_ = nullptr;
  int events_ = UV_READABLE;
  bool polling_ = false;
  Napi::FunctionReference cb_;
  Napi::AsyncContext ctx_;
};

}  // namespace

Napi::Object InitFdWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("FdWatch", FdWatch::Define(env));
  return exports;
}
