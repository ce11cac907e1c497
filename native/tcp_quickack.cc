// TCP_QUICKACK: send a delayed ACK now and leave the interactive ("pingpong") delayed-ACK mode.
// C tor relays leave Nagle on; a relay's small cell waits for our ACK of its previous one, and an
// interactive-mode ACK waits up to 40 ms. The embedded client re-arms this after each read.
#include <napi.h>
#include "errno_error.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cerrno>

static Napi::Value TcpQuickAck(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) return ThrowType(info.Env(), "fd must be a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one) < 0) return ThrowErrno(info.Env(), "setsockopt(TCP_QUICKACK)", errno);
  return info.Env().Undefined();
}

Napi::Object InitTcpQuickAck(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpQuickAck", Napi::Function::New(env, TcpQuickAck));
  return exports;
}
