// Byte-stream socket I/O straight into and out of shared stream rings: a backend worker reads its kernel
// socket into the ring's free space and writes the ring's queued bytes to the socket, with no JS buffer,
// copy or stream machinery in between. Each call covers up to two spans of one buffer (a ring's free or
// used space wraps once) in one readv/sendmsg. Data-path results are numbers, never exceptions:
// bytes moved, 0 for end of stream (reads), or -errno.
#include <napi.h>
#include "errno_error.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>

namespace {

bool IntArg(const Napi::CallbackInfo& info, size_t i, int64_t* out) {
  if (!info[i].IsNumber()) return false;
  *out = info[i].As<Napi::Number>().Int64Value();
  return true;
}

// fd, buf, off1, len1, off2, len2 → up to two iovecs inside buf. Throws TypeError (returns -1) on bad
// arguments: those are bugs in the TypeScript caller, not I/O results.
int SpanArgs(const Napi::CallbackInfo& info, iovec* iov, int* fd) {
  Napi::Env env = info.Env();
  int64_t f, o1, l1, o2, l2;
  if (!IntArg(info, 0, &f) || !info[1].IsTypedArray() || !IntArg(info, 2, &o1) || !IntArg(info, 3, &l1) ||
      !IntArg(info, 4, &o2) || !IntArg(info, 5, &l2)) {
    ThrowType(env, "(fd, buf: Uint8Array, off1, len1, off2, len2) expected");
    return -1;
  }
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) {
    ThrowType(env, "buf must be a Uint8Array");
    return -1;
  }
  Napi::Uint8Array buf = ta.As<Napi::Uint8Array>();
  const int64_t size = static_cast<int64_t>(buf.ByteLength());
  if (o1 < 0 || l1 < 0 || o2 < 0 || l2 < 0 || o1 + l1 > size || o2 + l2 > size) {
    ThrowType(env, "span outside the buffer");
    return -1;
  }
  uint8_t* base = buf.Data();
  int n = 0;
  if (l1 > 0) iov[n++] = {base + o1, static_cast<size_t>(l1)};
  if (l2 > 0) iov[n++] = {base + o2, static_cast<size_t>(l2)};
  *fd = static_cast<int>(f);
  return n;
}

// readSpans(fd, buf, off1, len1, off2, len2): bytes read, 0 at end of stream, or -errno (-EAGAIN: nothing yet).
Napi::Value ReadSpans(const Napi::CallbackInfo& info) {
  iovec iov[2];
  int fd;
  int n = SpanArgs(info, iov, &fd);
  if (n < 0) return info.Env().Undefined();
  if (n == 0) return Napi::Number::New(info.Env(), 0);
  ssize_t r;
  do r = readv(fd, iov, n);
  while (r < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : static_cast<double>(r));
}

// writeSpans(fd, buf, off1, len1, off2, len2): bytes written or -errno. MSG_NOSIGNAL: a peer that went
// away is an EPIPE result, not a signal.
Napi::Value WriteSpans(const Napi::CallbackInfo& info) {
  iovec iov[2];
  int fd;
  int n = SpanArgs(info, iov, &fd);
  if (n < 0) return info.Env().Undefined();
  if (n == 0) return Napi::Number::New(info.Env(), 0);
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = n;
  ssize_t r;
  do r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : static_cast<double>(r));
}

int FdArg(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!IntArg(info, 0, &fd) || fd < 0) {
    ThrowType(info.Env(), "fd must be a non-negative number");
    return -1;
  }
  return static_cast<int>(fd);
}

// dupFd(fd): a second descriptor for the same socket (close-on-exec), so the socket outlives the handle
// that opened it (a node:net socket hands its connection over this way).
Napi::Value DupFd(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return ThrowErrno(info.Env(), "fcntl(F_DUPFD_CLOEXEC)", errno);
  int fl = fcntl(d, F_GETFL);
  if (fl < 0 || fcntl(d, F_SETFL, fl | O_NONBLOCK) < 0) {
    int e = errno;
    close(d);
    return ThrowErrno(info.Env(), "fcntl(O_NONBLOCK)", e);
  }
  return Napi::Number::New(info.Env(), d);
}

// shutdownWrite(fd): FIN after queued bytes; 0 or -errno.
Napi::Value ShutdownWrite(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), shutdown(fd, SHUT_WR) < 0 ? -errno : 0);
}

// closeStream(fd, reset): close; with reset, SO_LINGER 0 first so the peer gets a RST instead of a FIN.
Napi::Value CloseStream(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  if (info[1].ToBoolean().Value()) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  return Napi::Number::New(info.Env(), close(fd) < 0 ? -errno : 0);
}

// socketError(fd): the pending SO_ERROR (cleared by reading it), 0 when none.
Napi::Value SocketError(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (fd < 0) return info.Env().Undefined();
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  return Napi::Number::New(info.Env(), err);
}

}  // namespace

Napi::Object InitStreamFd(Napi::Env env, Napi::Object exports) {
  exports.Set("readSpans", Napi::Function::New(env, ReadSpans));
  exports.Set("writeSpans", Napi::Function::New(env, WriteSpans));
  exports.Set("dupFd", Napi::Function::New(env, DupFd));
  exports.Set("shutdownWrite", Napi::Function::New(env, ShutdownWrite));
  exports.Set("closeStream", Napi::Function::New(env, CloseStream));
  exports.Set("socketError", Napi::Function::New(env, SocketError));
  return exports;
}
