// Interface queries and link up/down through the classic ioctls, optionally inside a named network namespace.
#include <napi.h>
#include "errno_error.h"
#include "netns.h"
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstring>

namespace {

// Reads name (arg 0) and optional netns (arg `nsArg`); returns false after throwing on bad input.
bool ReadName(const Napi::CallbackInfo& info, size_t nsArg, std::string* name, std::string* ns) {
  if (!info[0].IsString()) { ThrowType(info.Env(), "interface name must be a string"); return false; }
  *name = info[0].As<Napi::String>().Utf8Value();
  if (name->empty() || name->size() >= IFNAMSIZ) { ThrowErrno(info.Env(), "ifname", EINVAL); return false; }
  if (info.Length() > nsArg && info[nsArg].IsString()) *ns = info[nsArg].As<Napi::String>().Utf8Value();
  return true;
}

// An AF_INET datagram socket created in the requested namespace: the handle the SIOC* ioctls need.
int IoctlSocket(Napi::Env env, const std::string& ns) {
  NetnsScope scope(ns);
  if (scope.err()) { ThrowErrno(env, scope.op(), scope.err()); return -1; }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, "socket", errno);
  return fd;
}

struct Ifreq : ifreq {
  explicit Ifreq(const std::string& name) {
    memset(static_cast<ifreq*>(this), 0, sizeof(ifreq));
    memcpy(ifr_name, name.data(), name.size());
  }
};

}  // namespace

// Shared with af_packet.cc: fills ifindex/mac/mtu/flags using an existing socket of the right namespace.
bool QueryInterface(int fd, const std::string& name, int* ifindex, uint8_t mac[6], int* mtu, int* flags,
                    const char** op, int* err) {
  Ifreq r(name);
  if (ioctl(fd, SIOCGIFINDEX, &r) < 0) { *op = "SIOCGIFINDEX"; *err = errno; return false; }
  *ifindex = r.ifr_ifindex;
  Ifreq h(name);
  if (ioctl(fd, SIOCGIFHWADDR, &h) < 0) { *op = "SIOCGIFHWADDR"; *err = errno; return false; }
  memcpy(mac, h.ifr_hwaddr.sa_data, 6);
  Ifreq m(name);
  if (ioctl(fd, SIOCGIFMTU, &m) < 0) { *op = "SIOCGIFMTU"; *err = errno; return false; }
  *mtu = m.ifr_mtu;
  Ifreq f(name);
  if (ioctl(fd, SIOCGIFFLAGS, &f) < 0) { *op = "SIOCGIFFLAGS"; *err = errno; return false; }
  *flags = f.ifr_flags;
  return true;
}

Napi::Object InterfaceInfoObject(Napi::Env env, const std::string& name, int ifindex, const uint8_t mac[6],
                                 int mtu, int flags) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name);
  o.Set("ifindex", ifindex);
  Napi::Uint8Array m = Napi::Uint8Array::New(env, 6);
  memcpy(m.Data(), mac, 6);
  o.Set("mac", m);
  o.Set("mtu", mtu);
  o.Set("up", (flags & IFF_UP) != 0);
  o.Set("running", (flags & IFF_RUNNING) != 0);  // carrier present
  o.Set("flags", flags);
  return o;
}

// ifQuery(name, netns?) -> { name, ifindex, mac, mtu, up, running, flags }
static Napi::Value IfQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, ns;
  if (!ReadName(info, 1, &name, &ns)) return env.Undefined();
  int fd = IoctlSocket(env, ns);
  if (fd < 0) return env.Undefined();
  int ifindex = 0, mtu = 0, flags = 0, err = 0;
  uint8_t mac[6];
  const char* op = "";
  bool ok = QueryInterface(fd, name, &ifindex, mac, &mtu, &flags, &op, &err);
  close(fd);
  if (!ok) return ThrowErrno(env, op, err);
  return InterfaceInfoObject(env, name, ifindex, mac, mtu, flags);
}

// ifSetUp(name, up: boolean, netns?) -> undefined
static Napi::Value IfSetUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, ns;
  if (!ReadName(info, 2, &name, &ns)) return env.Undefined();
  bool up = info[1].ToBoolean().Value();
  int fd = IoctlSocket(env, ns);
  if (fd < 0) return env.Undefined();
  Ifreq r(name);
  int err = 0;
  const char* op = "SIOCGIFFLAGS";
  if (ioctl(fd, SIOCGIFFLAGS, &r) < 0) {
    err = errno;
  } else {
    r.ifr_flags = up ? (r.ifr_flags | IFF_UP) : (r.ifr_flags & ~IFF_UP);
    op = "SIOCSIFFLAGS";
    if (ioctl(fd, SIOCSIFFLAGS, &r) < 0) err = errno;
  }
  close(fd);
  if (err) return ThrowErrno(env, op, err);
  return env.Undefined();
}

Napi::Object InitNetif(Napi::Env env, Napi::Object exports) {
  exports.Set("ifQuery", Napi::Function::New(env, IfQuery));
  exports.Set("ifSetUp", Napi::Function::New(env, IfSetUp));
  return exports;
}
