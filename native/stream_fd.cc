// Byte-stream socket I/O straight into and out of shared stream rings: a backend worker reads its kernel
// socket into the ring's free space and writes the ring's queued bytes to the socket, with no JS buffer,
// copy or stream machinery in between. Each call covers up to two spans of one buffer (a ring's free or
// used space wraps once) in one readv/sendmsg. Data-path results are numbers, never exceptions:
// bytes moved, 0 for end of stream (reads), or -errno. The direct backend also opens its connections here,
// so a stream's socket never passes through node:net.
#include <napi.h>
#include "errno_error.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

// tcpConnect(addr: string, port): a non-blocking TCP connection to a numeric IPv4 or IPv6 address, with
// TCP_NODELAY (a proxy forwards what it has at once). Returns the descriptor, connecting (writable when done;
// SO_ERROR then says how it went), or -errno. Names are resolved by the caller.
Napi::Value TcpConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t port;
  if (!info[0].IsString() || !IntArg(info, 1, &port) || port < 0 || port > 65535) return ThrowType(env, "tcpConnect(addr: string, port: number)");
  std::string addr = info[0].As<Napi::String>().Utf8Value();
  sockaddr_storage ss{};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
  } else {
    return ThrowType(env, "tcpConnect: not a numeric IPv4 or IPv6 address");
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Napi::Number::New(env, -errno);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return Napi::Number::New(env, -e);
  }
  return Napi::Number::New(env, fd);
}

// localAddress(fd): { family: 4 | 6, addr, port } of a connected socket, or null.
Napi::Value LocalAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  if (fd < 0) return env.Undefined();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return env.Null();
  char text[INET6_ADDRSTRLEN] = {0};
  Napi::Object o = Napi::Object::New(env);
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    o.Set("family", 4);
    o.Set("port", ntohs(a->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    o.Set("family", 6);
    o.Set("port", ntohs(a->sin6_port));
  } else {
    return env.Null();
  }
  o.Set("addr", text);
  return o;
}

}  // namespace

Napi::Object InitStreamFd(Napi::Env env, Napi::Object exports) {
  exports.Set("readSpans", Napi::Function::New(env, ReadSpans));
  exports.Set("writeSpans", Napi::Function::New(env, WriteSpans));
  exports.Set("dupFd", Napi::Function::New(env, DupFd));
  exports.Set("shutdownWrite", Napi::Function::New(env, ShutdownWrite));
  exports.Set("closeStream", Napi::Function::New(env, CloseStream));
  exports.Set("socketError", Napi::Function::New(env, SocketError));
  exports.Set("tcpConnect", Napi::Function::New(env, TcpConnect));
  exports.Set("localAddress", Napi::Function::New(env, LocalAddress));
  return exports;
}
