// One AF_PACKET socket bound to one interface: an RX ring (TPACKET_V2, woken per frame, by default; or V3,
// woken per retired block) and a TX ring in one mmap, plus with offload a TX-only socket whose ring has slots
// for 64 KiB GSO super-frames. rx() copies every frame the kernel has handed over (up to the caller's
// capacity) into a JS-owned arena and returns slots/blocks to the kernel; tx() fills TX slots from a JS
// buffer and kicks the kernel once per ring. One N-API call per batch, never per packet. No protocol logic.
#include <napi.h>
#include "errno_error.h"
#include "netns.h"
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cstring>
#include <string>

bool QueryInterface(int fd, const std::string& name, int* ifindex, uint8_t mac[6], int* mtu, int* flags,
                    const char** op, int* err);
Napi::Object InterfaceInfoObject(Napi::Env env, const std::string& name, int ifindex, const uint8_t mac[6],
                                 int mtu, int flags);

namespace {

// The virtio_net_hdr ABI (virtio spec 5.1.6). <linux/virtio_net.h> is not valid C++ (a member named `class`).
struct VnetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len, gso_size, csum_start, csum_offset;  // host byte order with PACKET_VNET_HDR on little-endian
};
static_assert(sizeof(VnetHdr) == 10, "virtio_net_hdr is 10 bytes");
constexpr uint8_t VNET_F_NEEDS_CSUM = 1, VNET_F_DATA_VALID = 2;
constexpr uint8_t VNET_GSO_NONE = 0, VNET_GSO_TCPV4 = 1, VNET_GSO_TCPV6 = 4, VNET_GSO_UDP_L4 = 5,
                  VNET_GSO_ECN = 0x80;

// Per-frame metadata layout shared with src/native/packet-device.ts: a Uint16Array, META_STRIDE entries per frame.
constexpr uint32_t META_STRIDE = 4;
constexpr uint32_t META_FLAGS = 0, META_CSUM_START = 1, META_CSUM_OFFSET = 2, META_GSO_SIZE = 3;
// Flag bits (RX unless noted).
constexpr uint16_t F_CSUM_PARTIAL = 1 << 0;  // RX+TX: L4 checksum not computed (NEEDS_CSUM / CHECKSUM_PARTIAL)
constexpr uint16_t F_CSUM_VALID = 1 << 1;    // checksum already verified by the kernel or device
constexpr uint16_t F_GSO_TCPV4 = 1 << 2;     // GSO super-frame; gso size in META_GSO_SIZE
constexpr uint16_t F_GSO_TCPV6 = 1 << 3;
constexpr uint16_t F_GSO_UDP = 1 << 4;
constexpr uint16_t F_GSO_ECN = 1 << 5;
constexpr uint16_t F_TRUNCATED = 1 << 6;  // ring slot shorter than the packet: length is the captured part
constexpr uint16_t F_VLAN = 1 << 7;       // 802.1Q tag came as metadata and was reinserted into the frame

// Where frame data starts in a TX slot (the kernel's default without PACKET_TX_HAS_OFF): right after the
// version's frame header.
constexpr uint32_t TxDataOffset(int version) {
  return version == TPACKET_V2 ? TPACKET_ALIGN(sizeof(tpacket2_hdr)) : TPACKET_ALIGN(sizeof(tpacket3_hdr));
}
constexpr uint32_t PAGE = 4096;
// A GSO slot holds the largest IPv4 packet (65535) behind Ethernet + one VLAN tag, after the frame header and
// the virtio_net_hdr: 48 + 10 + 65553 rounded up to TPACKET_ALIGNMENT. 31 of them fill a 2 MiB block.
constexpr uint32_t GSO_FRAME_MAX = 65535 + 14 + 4;
constexpr uint32_t GSO_SLOT_SIZE = 65616;

struct Options {
  std::string netns;
  bool offload = true;        // PACKET_VNET_HDR
  bool qdiscBypass = true;    // PACKET_QDISC_BYPASS
  uint32_t fanoutGroup = 0;   // 0: no fanout; else PACKET_FANOUT hash group id (1..65535)
  int rxVersion = TPACKET_V2;  // V2: the reader is woken per frame; V3: per retired block (rxRetireMs)
  uint32_t rxFrameSize = 2048;                                    // both versions
  uint32_t rxFramesPerBlock = 32, rxBlocks = 160, rxRetireMs = 1;  // V3
  uint32_t rxFrames = 4096;                                        // V2
  uint32_t rxCopyBytes = 16u << 20;  // V2: socket receive buffer for whole copies of frames longer than a slot
  uint32_t txFrameSize = 2048, txFrames = 1024;
  uint32_t txGsoFrames = 62, txGsoFrameSize = GSO_SLOT_SIZE;  // second TX ring for GSO; 0 frames: none
};

// Ring geometry for fixed-size slots (TX rings and V2 RX rings): frames never span blocks, blocks are whole
// pages (the kernel allocates each block as a power-of-two run of pages, so blocks are powers of two: 64 KiB
// for small slots, 2 MiB for large ones, where the slack after the last slot is under one slot).
struct SlotGeometry {
  uint32_t blockSize = 0, blocks = 0, framesPerBlock = 0, frames = 0;
};
bool SlotGeometryFor(uint32_t frameSize, uint32_t wantFrames, SlotGeometry* g) {
  if (frameSize == 0 || frameSize % TPACKET_ALIGNMENT != 0 || wantFrames == 0) return false;
  uint32_t block = frameSize <= 4096 ? 65536 : 2u << 20;
  if (frameSize > block) block = (frameSize + PAGE - 1) / PAGE * PAGE;
  g->blockSize = block;
  g->framesPerBlock = block / frameSize;
  g->blocks = (wantFrames + g->framesPerBlock - 1) / g->framesPerBlock;
  g->frames = g->blocks * g->framesPerBlock;
  return true;
}

uint32_t GetU32(Napi::Object o, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}
bool GetBool(Napi::Object o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

template <typename T>
bool TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, T** data, size_t* len) {
  napi_value v = info[i];
  bool is = false;
  if (napi_is_typedarray(info.Env(), v, &is) != napi_ok || !is) return false;
  napi_typedarray_type t;
  void* p = nullptr;
  if (napi_get_typedarray_info(info.Env(), v, &t, len, &p, nullptr, nullptr) != napi_ok || t != type) return false;
  *data = static_cast<T*>(p);
  return true;
}

// One mmapped TX ring (slot i at block i / framesPerBlock, offset (i % framesPerBlock) * frameSize) and the
// socket that owns it. Frame header layout depends on the TPACKET version the socket was set to.
struct TxRing {
  int fd = -1;
  int version = TPACKET_V3;
  bool vnet = false;
  uint8_t* base = nullptr;
  SlotGeometry g;
  uint32_t frameSize = 0, next = 0;
  uint32_t unkicked = 0;  // slots marked SEND_REQUEST since the last successful kick
  bool kickPending = false;

  bool open() const { return base != nullptr; }
  uint8_t* Slot(uint32_t i) const {
    return base + size_t(i / g.framesPerBlock) * g.blockSize + size_t(i % g.framesPerBlock) * frameSize;
  }
  // Largest frame (without the vnet header) a slot holds.
  uint32_t Payload() const { return frameSize - TxDataOffset(version) - (vnet ? sizeof(VnetHdr) : 0); }
  uint32_t Status(uint8_t* h) const {
    uint32_t* st = version == TPACKET_V2 ? &reinterpret_cast<tpacket2_hdr*>(h)->tp_status
                                         : &reinterpret_cast<tpacket3_hdr*>(h)->tp_status;
    return __atomic_load_n(st, __ATOMIC_ACQUIRE);
  }
  // Hands slot h (frame data already written) to the kernel.
  void Submit(uint8_t* h, uint32_t len) {
    uint32_t* st;
    if (version == TPACKET_V2) {
      auto* t = reinterpret_cast<tpacket2_hdr*>(h);
      t->tp_len = len;
      st = &t->tp_status;
    } else {
      auto* t = reinterpret_cast<tpacket3_hdr*>(h);
      t->tp_len = len;
      t->tp_next_offset = 0;
      st = &t->tp_status;
    }
    __atomic_store_n(st, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    next = (next + 1) % g.frames;
    unkicked++;
  }
};

// hdr_len for a GSO frame: Ethernet + IP + L4 header, which the kernel copies into the linear part.
// TCP: csum_start + data offset; UDP: csum_start + 8; never less than the kernel's own floor.
uint16_t GsoHeaderLen(const uint8_t* f, size_t len, uint16_t csumStart, uint16_t csumOffset, bool tcp) {
  size_t h = size_t(csumStart) + csumOffset + 2;
  if (tcp && size_t(csumStart) + 12 < len) h = std::max(h, size_t(csumStart) + (f[csumStart + 12] >> 4) * 4u);
  if (!tcp) h = std::max(h, size_t(csumStart) + 8);
  return uint16_t(std::min(h, len));
}

class AfPacketSocket : public Napi::ObjectWrap<AfPacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AfPacketSocket",
                       {InstanceMethod("rx", &AfPacketSocket::Rx), InstanceMethod("tx", &AfPacketSocket::Tx),
                        InstanceMethod("stats", &AfPacketSocket::Stats),
                        InstanceMethod("info", &AfPacketSocket::Info),
                        InstanceMethod("close", &AfPacketSocket::Close),
                        InstanceMethod("clearError", &AfPacketSocket::ClearError),
                        InstanceAccessor("fd", &AfPacketSocket::Fd, nullptr),
                        InstanceAccessor("offload", &AfPacketSocket::Offload, nullptr),
                        InstanceAccessor("txMaxFrame", &AfPacketSocket::TxMaxFrame, nullptr),
                        InstanceAccessor("txGsoMaxSize", &AfPacketSocket::TxGsoMaxSize, nullptr),
                        InstanceAccessor("rxRing", &AfPacketSocket::RxRing, nullptr),
                        StaticValue("META_STRIDE", Napi::Number::New(env, META_STRIDE))});
  }

  // new AfPacketSocket(ifname: string, options?: object)
  explicit AfPacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AfPacketSocket>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) { ThrowType(env, "AfPacketSocket(ifname: string, options?: object)"); return; }
    name_ = info[0].As<Napi::String>().Utf8Value();
    if (name_.empty() || name_.size() >= IFNAMSIZ) { ThrowErrno(env, "ifname", EINVAL); return; }
    Options o;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object js = info[1].As<Napi::Object>();
      Napi::Value ns = js.Get("netns");
      if (ns.IsString()) o.netns = ns.As<Napi::String>().Utf8Value();
      Napi::Value ring = js.Get("rxRing");
      if (ring.IsString()) {
        std::string r = ring.As<Napi::String>().Utf8Value();
        if (r == "v2") o.rxVersion = TPACKET_V2;
        else if (r == "v3") o.rxVersion = TPACKET_V3;
        else { ThrowType(env, "rxRing must be 'v2' or 'v3'"); return; }
      }
      o.offload = GetBool(js, "offload", o.offload);
      o.qdiscBypass = GetBool(js, "qdiscBypass", o.qdiscBypass);
      o.fanoutGroup = GetU32(js, "fanoutGroup", o.fanoutGroup);
      o.rxFrameSize = GetU32(js, "rxFrameSize", o.rxFrameSize);
      o.rxFramesPerBlock = GetU32(js, "rxFramesPerBlock", o.rxFramesPerBlock);
      o.rxBlocks = GetU32(js, "rxBlocks", o.rxBlocks);
      o.rxRetireMs = GetU32(js, "rxRetireMs", o.rxRetireMs);
      o.rxFrames = GetU32(js, "rxFrames", o.rxFrames);
      o.rxCopyBytes = GetU32(js, "rxCopyBytes", o.rxCopyBytes);
      o.txFrameSize = GetU32(js, "txFrameSize", o.txFrameSize);
      o.txFrames = GetU32(js, "txFrames", o.txFrames);
      o.txGsoFrames = GetU32(js, "txGsoFrames", o.txGsoFrames);
      o.txGsoFrameSize = GetU32(js, "txGsoFrameSize", o.txGsoFrameSize);
    }
    const char* op = "";
    int err = Open(o, &op);
    if (err) {
      Release();
      ThrowErrno(env, op, err);
    }
  }

  ~AfPacketSocket() override { Release(); }

 private:
  // Socket options shared by the RX/TX socket and the GSO TX socket. Returns 0 or an errno.
  static int CommonOptions(int fd, int version, bool qdiscBypass, const char** op) {
    int v = version;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { *op = "PACKET_VERSION"; return errno; }
    v = 1;  // malformed TX frames are skipped instead of stalling the ring
    if (setsockopt(fd, SOL_PACKET, PACKET_LOSS, &v, sizeof v) < 0) { *op = "PACKET_LOSS"; return errno; }
    if (qdiscBypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v) < 0) {
      *op = "PACKET_QDISC_BYPASS";
      return errno;
    }
    return 0;
  }

  static tpacket_req3 SlotRequest(const SlotGeometry& g, uint32_t frameSize) {
    tpacket_req3 r{};
    r.tp_block_size = g.blockSize;
    r.tp_block_nr = g.blocks;
    r.tp_frame_size = frameSize;
    r.tp_frame_nr = g.frames;
    return r;
  }

  // Returns 0 or an errno, with *op naming the failed call.
  int Open(const Options& o, const char** op) {
    NetnsScope scope(o.netns);  // the sockets belong to the namespace they are created in
    if (scope.err()) { *op = scope.op(); return scope.err(); }
    // Protocol 0 until bind: the socket must not see traffic from every interface in the meantime.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) { *op = "socket"; return errno; }
    int ifflags = 0, err = 0;
    if (!QueryInterface(fd_, name_, &ifindex_, mac_, &mtu_, &ifflags, op, &err)) return err;

    rxVersion_ = o.rxVersion;
    int v = 1;
    // PACKET_VNET_HDR is refused once rings exist: set it first.
    if ((err = CommonOptions(fd_, rxVersion_, o.qdiscBypass, op))) return err;
    if (o.offload) vnet_ = setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &v, sizeof v) == 0;
    // Frames the host stack itself sends out of this interface are not input to the dataplane.
    if (setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v) < 0 && errno != ENOPROTOOPT) {
      *op = "PACKET_IGNORE_OUTGOING";
      return errno;
    }

    tpacket_req3 rx{};
    if (rxVersion_ == TPACKET_V3) {
      uint32_t fs = o.rxFrameSize;
      rx.tp_block_size = fs * o.rxFramesPerBlock;
      rx.tp_block_nr = o.rxBlocks;
      rx.tp_frame_size = fs;
      rx.tp_frame_nr = o.rxBlocks * o.rxFramesPerBlock;
      rx.tp_retire_blk_tov = o.rxRetireMs;
      rxBlockSize_ = rx.tp_block_size;
      rxBlocks_ = rx.tp_block_nr;
    } else {
      // One slot per frame. A frame longer than a slot (a veth peer's 64 KiB GSO super-frame) is queued whole
      // on the socket as well (PACKET_COPY_THRESH) and read with recv in ring order; the receive buffer bounds
      // how many such frames may wait (it holds references to the kernel's buffers, not copies).
      uint32_t fs = o.rxFrameSize, n = o.rxFrames;
      v = 1;
      if (setsockopt(fd_, SOL_PACKET, PACKET_COPY_THRESH, &v, sizeof v) < 0) { *op = "PACKET_COPY_THRESH"; return errno; }
      int rcvbuf = int(o.rxCopyBytes);
      if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0 &&
          setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0) {
        *op = "SO_RCVBUF";
        return errno;
      }
      if (!SlotGeometryFor(fs, n, &rxGeom_)) { *op = "PACKET_RX_RING"; return EINVAL; }
      rx = SlotRequest(rxGeom_, fs);
      rxFrameSize_ = fs;
    }
    if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) < 0) { *op = "PACKET_RX_RING"; return errno; }
    if (o.txFrameSize == 0 || o.txFrames == 0 || !SlotGeometryFor(o.txFrameSize, o.txFrames, &tx_.g)) {
      *op = "PACKET_TX_RING";
      return EINVAL;
    }
    tpacket_req3 tx = SlotRequest(tx_.g, o.txFrameSize);
    if (setsockopt(fd_, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0) { *op = "PACKET_TX_RING"; return errno; }

    size_t rxBytes = size_t(rx.tp_block_size) * rx.tp_block_nr;
    size_t txBytes = size_t(tx.tp_block_size) * tx.tp_block_nr;
    void* m = mmap(nullptr, rxBytes + txBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (m == MAP_FAILED) { *op = "mmap"; return errno; }
    map_ = static_cast<uint8_t*>(m);
    mapLen_ = rxBytes + txBytes;
    tx_.fd = fd_;
    tx_.version = rxVersion_;
    tx_.vnet = vnet_;
    tx_.base = map_ + rxBytes;
    tx_.frameSize = o.txFrameSize;

    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) { *op = "bind"; return errno; }
    if (o.fanoutGroup) {
      if (o.fanoutGroup > 0xffff) { *op = "PACKET_FANOUT"; return EINVAL; }
      int f = int(o.fanoutGroup) | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
      if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &f, sizeof f) < 0) { *op = "PACKET_FANOUT"; return errno; }
    }
    if (vnet_ && o.txGsoFrames > 0) return OpenGsoRing(o, op);
    return 0;
  }

  // GSO super-frames go through a second, TX-only socket (bound with protocol 0, so it receives nothing)
  // whose ring has few, large slots; ordinary frames keep the many small slots of the main ring.
  int OpenGsoRing(const Options& o, const char** op) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) { *op = "socket(gso)"; return errno; }
    gso_.fd = fd;
    // Never PACKET_QDISC_BYPASS here: the bypass path drops any skb the device cannot take as it is, while
    // dev_queue_xmit segments in software for a device without (this kind of) TSO.
    int err = CommonOptions(fd, rxVersion_, false, op);
    if (err) return err;
    int v = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &v, sizeof v) < 0) { *op = "PACKET_VNET_HDR(gso)"; return errno; }
    if (!SlotGeometryFor(o.txGsoFrameSize, o.txGsoFrames, &gso_.g) ||
        o.txGsoFrameSize < TxDataOffset(rxVersion_) + sizeof(VnetHdr) + 1514) {
      *op = "PACKET_TX_RING(gso)";
      return EINVAL;
    }
    tpacket_req3 tx = SlotRequest(gso_.g, o.txGsoFrameSize);
    if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0) { *op = "PACKET_TX_RING(gso)"; return errno; }
    size_t bytes = size_t(tx.tp_block_size) * tx.tp_block_nr;
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) { *op = "mmap(gso)"; return errno; }
    gsoMapLen_ = bytes;
    gso_.base = static_cast<uint8_t*>(m);
    gso_.version = rxVersion_;
    gso_.vnet = true;
    gso_.frameSize = o.txGsoFrameSize;
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = 0;
    sll.sll_ifindex = ifindex_;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) { *op = "bind(gso)"; return errno; }
    return 0;
  }

  void Release() {
    if (map_) munmap(map_, mapLen_);
    map_ = nullptr;
    tx_ = TxRing{};
    if (gso_.base) munmap(gso_.base, gsoMapLen_);
    if (gso_.fd >= 0) close(gso_.fd);
    gso_ = TxRing{};
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  tpacket_block_desc* RxBlock(uint32_t i) const {
    return reinterpret_cast<tpacket_block_desc*>(map_ + size_t(i) * rxBlockSize_);
  }
  uint8_t* RxSlot(uint32_t i) const {
    return map_ + size_t(i / rxGeom_.framesPerBlock) * rxGeom_.blockSize +
           size_t(i % rxGeom_.framesPerBlock) * rxFrameSize_;
  }

  // Where rx() writes: the caller's arrays, the layout, and the running position.
  struct RxDest {
    uint8_t* data;
    size_t dataLen;
    uint32_t *offsets, *lengths;
    uint16_t* meta;
    size_t slot, cap, n, used;
  };
  enum class Put { kTaken, kDropped, kArenaFull };

  // Copies one ring frame (frame = MAC header; the vnet header, if any, sits right before it) into dst.
  // V2 with TP_STATUS_COPY: the slot holds a truncated copy and the whole packet waits, in ring order, on the
  // socket's receive queue (PACKET_COPY_THRESH); it is read from there with recv (`frame` only supplies the
  // vnet header then).
  Put PutFrame(RxDest& d, const uint8_t* frame, uint32_t snap, uint32_t wireLen, uint32_t status, uint16_t vlanTci,
               uint16_t vlanTpid) {
    const bool copied = (status & TP_STATUS_COPY) != 0;
    const uint32_t len = copied ? wireLen : snap;
    bool vlan = (status & TP_STATUS_VLAN_VALID) && len >= 12;
    size_t outLen = len + (vlan ? 4 : 0);
    if (outLen > (d.slot ? d.slot : d.dataLen)) {
      rxTooBig_++;  // could never fit: drop rather than wedge the ring
      if (copied) DiscardCopy();
      return Put::kDropped;
    }
    if (!d.slot && d.used + outLen > d.dataLen) return Put::kArenaFull;
    size_t at = d.slot ? d.offsets[d.n] : d.used;
    uint8_t* out = d.data + at;
    uint16_t flags = 0, csumStart = 0, csumOffset = 0, gsoSize = 0;
    if (copied) {
      // The queued copy carries its own vnet header first (the same one the slot has).
      VnetHdr ignored;
      iovec iov[2] = {{&ignored, vnet_ ? sizeof ignored : 0}, {out + (vlan ? 4 : 0), len}};
      msghdr mh{};
      mh.msg_iov = iov;
      mh.msg_iovlen = 2;
      ssize_t got = recvmsg(fd_, &mh, MSG_DONTWAIT);
      got -= vnet_ ? ssize_t(sizeof ignored) : 0;
      if (got < ssize_t(vlan ? 12 : 1)) {
        rxCopyLost_++;  // the copy was not there: deliver what the slot holds, marked truncated
        return PutFrame(d, frame, snap, wireLen, status & ~TP_STATUS_COPY, vlanTci, vlanTpid);
      }
      rxCopied_++;
      if (uint32_t(got) < len) { outLen = size_t(got) + (vlan ? 4 : 0); wireLen = len; }
      snap = uint32_t(got);
      if (vlan) memmove(out, out + 4, 12);
    } else if (vlan) {
      memcpy(out, frame, 12);
    } else {
      memcpy(out, frame, snap);
    }
    if (vlan) {
      uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? vlanTpid : ETH_P_8021Q;
      uint16_t tag[2] = {htons(tpid), htons(vlanTci)};
      memcpy(out + 12, tag, 4);
      if (!copied) memcpy(out + 16, frame + 12, snap - 12);
      flags |= F_VLAN;
    }
    if (status & TP_STATUS_CSUMNOTREADY) flags |= F_CSUM_PARTIAL;
    if (status & TP_STATUS_CSUM_VALID) flags |= F_CSUM_VALID;
    if (wireLen > snap) { flags |= F_TRUNCATED; rxTruncated_++; }
    if (vnet_) {
      VnetHdr vh;
      memcpy(&vh, frame - sizeof vh, sizeof vh);  // the kernel puts it right before the MAC header
      if (vh.flags & VNET_F_NEEDS_CSUM) {
        flags |= F_CSUM_PARTIAL;
        // csum_start counts from the frame as the kernel held it, i.e. without a reinserted tag.
        csumStart = uint16_t(vh.csum_start + (vlan ? 4 : 0));
        csumOffset = vh.csum_offset;
      }
      if (vh.flags & VNET_F_DATA_VALID) flags |= F_CSUM_VALID;
      switch (vh.gso_type & ~VNET_GSO_ECN) {
        case VNET_GSO_TCPV4: flags |= F_GSO_TCPV4; break;
        case VNET_GSO_TCPV6: flags |= F_GSO_TCPV6; break;
        case VNET_GSO_UDP_L4: flags |= F_GSO_UDP; break;
        default: break;
      }
      if (vh.gso_type & VNET_GSO_ECN) flags |= F_GSO_ECN;
      if (vh.gso_type != VNET_GSO_NONE) gsoSize = vh.gso_size;
    }
    d.offsets[d.n] = uint32_t(at);
    d.lengths[d.n] = uint32_t(outLen);
    uint16_t* m = d.meta + d.n * META_STRIDE;
    m[META_FLAGS] = flags;
    m[META_CSUM_START] = csumStart;
    m[META_CSUM_OFFSET] = csumOffset;
    m[META_GSO_SIZE] = gsoSize;
    d.n++;
    if (!d.slot) d.used += outLen;
    rxBytes_ += outLen;
    return Put::kTaken;
  }

  // TPACKET_V3: walk retired blocks; a block goes back to the kernel once all its frames are taken.
  void RxV3(RxDest& d) {
    while (d.n < d.cap) {
      tpacket_block_desc* b = RxBlock(rxBlock_);
      if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
      if (!rxPkt_) {
        rxPktLeft_ = b->hdr.bh1.num_pkts;
        rxPkt_ = reinterpret_cast<uint8_t*>(b) + b->hdr.bh1.offset_to_first_pkt;
      }
      bool arenaFull = false;
      while (rxPktLeft_ > 0 && d.n < d.cap) {
        const tpacket3_hdr* h = reinterpret_cast<const tpacket3_hdr*>(rxPkt_);
        if (PutFrame(d, rxPkt_ + h->tp_mac, h->tp_snaplen, h->tp_len, h->tp_status, uint16_t(h->hv1.tp_vlan_tci),
                     h->hv1.tp_vlan_tpid) == Put::kArenaFull) {
          arenaFull = true;
          break;
        }
        rxPktLeft_--;
        rxPkt_ += h->tp_next_offset;
      }
      if (rxPktLeft_ == 0) {  // every frame of the block consumed: hand it back
        __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        rxBlock_ = (rxBlock_ + 1) % rxBlocks_;
        rxPkt_ = nullptr;
      }
      if (arenaFull) break;
    }
  }

  // Drops the queued full copy of a frame that cannot be delivered (keeps ring and queue in step).
  void DiscardCopy() {
    uint8_t b[sizeof(VnetHdr) + 2];  // with a vnet header, a read shorter than it fails (and still dequeues)
    if (recv(fd_, b, sizeof b, MSG_DONTWAIT | MSG_TRUNC) < 0) rxCopyLost_++;
  }

  // TPACKET_V2: one slot per frame, each handed back as soon as it is copied.
  void RxV2(RxDest& d) {
    while (d.n < d.cap) {
      uint8_t* s = RxSlot(rxSlot_);
      tpacket2_hdr* h = reinterpret_cast<tpacket2_hdr*>(s);
      if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
      if (PutFrame(d, s + h->tp_mac, h->tp_snaplen, h->tp_len, h->tp_status, h->tp_vlan_tci, h->tp_vlan_tpid) ==
          Put::kArenaFull)
        break;
      __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      rxSlot_ = (rxSlot_ + 1) % rxGeom_.frames;
    }
  }

  // rx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, meta: Uint16Array, slotSize = 0,
  //    end = capacity of the arrays, first = 0) -> index after the last frame written
  //   Frames are written at indices first..end-1, so several queues can fill one batch in turn.
  //   slotSize 0 ("packed"): frames are copied back to back from data[0]; offsets[] is output.
  //   slotSize > 0 ("slots"): offsets[i] is input, the start of a slot of slotSize bytes for frame i (e.g. a
  //   buffer pool's data areas); a frame longer than a slot is dropped and counted (rxTooBig).
  Napi::Value Rx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RxDest d{};
    size_t nOff, nLen, nMeta;
    if (!TypedArg(info, 0, napi_uint8_array, &d.data, &d.dataLen) ||
        !TypedArg(info, 1, napi_uint32_array, &d.offsets, &nOff) ||
        !TypedArg(info, 2, napi_uint32_array, &d.lengths, &nLen) ||
        !TypedArg(info, 3, napi_uint16_array, &d.meta, &nMeta))
      return ThrowType(env, "rx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, meta: Uint16Array)");
    if (fd_ < 0) return ThrowErrno(env, "rx", EBADF);
    d.cap = std::min(std::min(nOff, nLen), nMeta / META_STRIDE);
    d.slot = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
    if (info.Length() > 5 && info[5].IsNumber()) d.cap = std::min(d.cap, size_t(info[5].As<Napi::Number>().Uint32Value()));
    size_t first = info.Length() > 6 && info[6].IsNumber() ? info[6].As<Napi::Number>().Uint32Value() : 0;
    if (first > d.cap) first = d.cap;
    d.n = first;
    if (!d.slot && first > 0) {
      d.used = size_t(d.offsets[first - 1]) + d.lengths[first - 1];  // packed: continue after the previous frame
      if (d.used > d.dataLen) return ThrowType(env, "rx: offsets/lengths before `first` exceed data");
    }
    if (d.slot) {
      // Checked before touching the ring so a bad slot list cannot lose frames.
      for (size_t i = first; i < d.cap; i++)
        if (size_t(d.offsets[i]) + d.slot > d.dataLen) {
          Napi::RangeError::New(env, "rx: slot " + std::to_string(i) + " exceeds data").ThrowAsJavaScriptException();
          return env.Undefined();
        }
    }
    if (rxVersion_ == TPACKET_V2) RxV2(d);
    else RxV3(d);
    rxFrames_ += d.n - first;
    return Napi::Number::New(env, double(d.n));
  }

  // tx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, meta?: Uint16Array)
  //   -> frames consumed from the front of the batch (queued + dropped as unsendable). Fewer than count means
  //      a ring is full; the rest stays with the caller.
  //   A frame whose meta flags carry GSO_TCPV4/TCPV6/UDP (with CSUM_PARTIAL and a gso size) goes to the GSO
  //   ring with a GSO vnet header; the kernel (or the veth peer) segments it. Frames leave in batch order: a
  //   ring's frames are kicked before the other ring gets the next one.
  Napi::Value Tx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint8_t* data;
    uint32_t *offsets, *lengths;
    uint16_t* meta = nullptr;
    size_t dataLen, nOff, nLen, nMeta = 0;
    if (!TypedArg(info, 0, napi_uint8_array, &data, &dataLen) ||
        !TypedArg(info, 1, napi_uint32_array, &offsets, &nOff) ||
        !TypedArg(info, 2, napi_uint32_array, &lengths, &nLen) || !info[3].IsNumber() ||
        (info.Length() > 4 && !info[4].IsUndefined() && !TypedArg(info, 4, napi_uint16_array, &meta, &nMeta)))
      return ThrowType(env,
                       "tx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, "
                       "meta?: Uint16Array)");
    if (fd_ < 0) return ThrowErrno(env, "tx", EBADF);
    size_t count = std::min(size_t(info[3].As<Napi::Number>().Uint32Value()), std::min(nOff, nLen));
    if (meta) count = std::min(count, nMeta / META_STRIDE);
    const uint32_t maxFrame = TxMaxFrameBytes(), gsoMax = TxGsoMaxBytes();
    constexpr uint16_t GSO_ANY = F_GSO_TCPV4 | F_GSO_TCPV6 | F_GSO_UDP;
    TxRing* last = nullptr;
    size_t i = 0;
    for (; i < count; i++) {
      uint32_t off = offsets[i], len = lengths[i];
      const uint16_t* m = meta ? meta + i * META_STRIDE : nullptr;
      uint16_t fl = m ? m[META_FLAGS] : 0;
      bool gso = (fl & GSO_ANY) != 0;
      if (len == 0 || size_t(off) + len > dataLen || len > (gso ? gsoMax : maxFrame) ||
          (gso && (!(fl & F_CSUM_PARTIAL) || m[META_GSO_SIZE] == 0 || m[META_CSUM_START] >= len))) {
        txDropped_++;  // cannot be sent from these rings: consumed and counted
        continue;
      }
      TxRing& r = gso ? gso_ : tx_;
      if (last && last != &r && last->unkicked) Kick(*last);  // keep batch order across the two rings
      last = &r;
      uint8_t* h = r.Slot(r.next);
      uint32_t st = r.Status(h);
      if ((st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) && r.unkicked) {
        // Wrapped onto frames of this very call: send them, which frees their slots when the device
        // completes synchronously (veth), then look again.
        Kick(r);
        st = r.Status(h);
      }
      if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) {
        txRingFull_++;
        break;
      }
      if (st & TP_STATUS_WRONG_FORMAT) txWrongFormat_++;
      uint8_t* dst = h + TxDataOffset(r.version);
      const uint8_t* src = data + off;
      size_t vnetLen = r.vnet ? sizeof(VnetHdr) : 0;
      if (r.vnet) {
        VnetHdr vh{};  // checksum offload only when the caller asks for it
        if (fl & F_CSUM_PARTIAL) {
          vh.flags = VNET_F_NEEDS_CSUM;
          vh.csum_start = m[META_CSUM_START];
          vh.csum_offset = m[META_CSUM_OFFSET];
        }
        if (gso) {
          vh.gso_type = (fl & F_GSO_TCPV4) ? VNET_GSO_TCPV4 : (fl & F_GSO_TCPV6) ? VNET_GSO_TCPV6 : VNET_GSO_UDP_L4;
          if (fl & F_GSO_ECN) vh.gso_type |= VNET_GSO_ECN;
          vh.gso_size = m[META_GSO_SIZE];
          vh.hdr_len = GsoHeaderLen(src, len, vh.csum_start, vh.csum_offset, !(fl & F_GSO_UDP));
        }
        memcpy(dst, &vh, sizeof vh);
      }
      memcpy(dst + vnetLen, src, len);
      r.Submit(h, uint32_t(len + vnetLen));
      txFramesQ_++;
      txBytes_ += len;
      if (gso) { txGsoFrames_++; txGsoBytes_ += len; }
    }
    if (tx_.unkicked || tx_.kickPending) Kick(tx_);
    if (gso_.open() && (gso_.unkicked || gso_.kickPending)) Kick(gso_);
    return Napi::Number::New(env, double(i));
  }

  void Kick(TxRing& r) {
    txKicks_++;
    if (sendto(r.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) {
      r.kickPending = false;
      r.unkicked = 0;
      return;
    }
    int e = errno;
    if (e != EAGAIN && e != EWOULDBLOCK && e != ENOBUFS) {
      // A link flap leaves a stale socket error (ENETDOWN) that fails the next send even after the link is
      // back: consume it and try once more, so only a current condition counts.
      ClearSocketError(r.fd);
      if (sendto(r.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) {
        r.kickPending = false;
        r.unkicked = 0;
        return;
      }
      e = errno;
    }
    // Frames stay marked SEND_REQUEST; the next kick (any tx call, or flushTx) pushes them.
    r.kickPending = true;
    r.unkicked = 0;
    if (e == EAGAIN || e == EWOULDBLOCK) txKickEagain_++;
    else if (e == ENOBUFS) txKickEnobufs_++;
    else { txKickErrors_++; txLastErrno_ = e; }
  }

  // Reads (and so resets) a socket's pending error; 0 if none.
  int ClearSocketError(int fd) {
    int err = 0;
    socklen_t l = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0) return errno;
    if (err) { socketErrors_++; lastSocketErrno_ = err; }
    return err;
  }

  // clearError() -> errno name of the pending socket error, or null. A pending error makes the fd report
  // POLLERR, which stops a libuv poll handle: clear it before restarting the watch.
  Napi::Value ClearError(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return env.Null();
    if (gso_.fd >= 0) ClearSocketError(gso_.fd);
    int e = ClearSocketError(fd_);
    const char* name = e ? strerrorname_np(e) : nullptr;
    return name ? Napi::Value(Napi::String::New(env, name)) : env.Null();
  }

  // stats() -> counters since open; kernel counters are accumulated (reading them resets the kernel's copy).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ >= 0) {
      tpacket_stats_v3 st{};  // V2 fills only the first two fields
      socklen_t l = sizeof st;
      if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &l) < 0)
        return ThrowErrno(env, "PACKET_STATISTICS", errno);
      kPackets_ += st.tp_packets;
      kDrops_ += st.tp_drops;
      if (rxVersion_ == TPACKET_V3) kFreezeQ_ += st.tp_freeze_q_cnt;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("kernelPackets", double(kPackets_));
    o.Set("kernelDrops", double(kDrops_));
    o.Set("kernelFreezeQueueCount", double(kFreezeQ_));
    o.Set("rxFrames", double(rxFrames_));
    o.Set("rxBytes", double(rxBytes_));
    o.Set("rxTruncated", double(rxTruncated_));
    o.Set("rxTooBig", double(rxTooBig_));
    o.Set("rxCopied", double(rxCopied_));
    o.Set("rxCopyLost", double(rxCopyLost_));
    o.Set("txFrames", double(txFramesQ_));
    o.Set("txBytes", double(txBytes_));
    o.Set("txGsoFrames", double(txGsoFrames_));
    o.Set("txGsoBytes", double(txGsoBytes_));
    o.Set("txDropped", double(txDropped_));
    o.Set("txRingFull", double(txRingFull_));
    o.Set("txWrongFormat", double(txWrongFormat_));
    o.Set("txKicks", double(txKicks_));
    o.Set("txKickEagain", double(txKickEagain_));
    o.Set("txKickEnobufs", double(txKickEnobufs_));
    o.Set("txKickErrors", double(txKickErrors_));
    const char* lastErr = txLastErrno_ ? strerrorname_np(txLastErrno_) : nullptr;
    o.Set("txLastErrno", lastErr ? Napi::Value(Napi::String::New(env, lastErr)) : env.Null());
    o.Set("socketErrors", double(socketErrors_));
    const char* lastSock = lastSocketErrno_ ? strerrorname_np(lastSocketErrno_) : nullptr;
    o.Set("lastSocketError", lastSock ? Napi::Value(Napi::String::New(env, lastSock)) : env.Null());
    return o;
  }

  // info() -> fresh { name, ifindex, mac, mtu, up, running, flags } through this socket's namespace.
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return ThrowErrno(env, "info", EBADF);
    int flags = 0, err = 0;
    const char* op = "";
    if (!QueryInterface(fd_, name_, &ifindex_, mac_, &mtu_, &flags, &op, &err)) return ThrowErrno(env, op, err);
    return InterfaceInfoObject(env, name_, ifindex_, mac_, mtu_, flags);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  uint32_t TxMaxFrameBytes() const { return tx_.open() ? tx_.Payload() : 0; }
  uint32_t TxGsoMaxBytes() const { return gso_.open() ? std::min(gso_.Payload(), GSO_FRAME_MAX) : 0; }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value Offload(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), vnet_); }
  Napi::Value TxMaxFrame(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), TxMaxFrameBytes()); }
  Napi::Value TxGsoMaxSize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), TxGsoMaxBytes());
  }
  Napi::Value RxRing(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), rxVersion_ == TPACKET_V2 ? "v2" : "v3");
  }

  std::string name_;
  int fd_ = -1, ifindex_ = 0, mtu_ = 0;
  uint8_t mac_[6] = {};
  bool vnet_ = false;
  int rxVersion_ = TPACKET_V2;
  uint8_t* map_ = nullptr;  // RX ring, then the main TX ring
  size_t mapLen_ = 0, gsoMapLen_ = 0;
  // V3 RX walk position: current block, and inside it the next packet (nullptr = block not started).
  uint32_t rxBlockSize_ = 0, rxBlocks_ = 0, rxBlock_ = 0, rxPktLeft_ = 0;
  uint8_t* rxPkt_ = nullptr;
  // V2 RX ring geometry and next slot.
  SlotGeometry rxGeom_;
  uint32_t rxFrameSize_ = 0, rxSlot_ = 0;
  TxRing tx_, gso_;
  uint64_t kPackets_ = 0, kDrops_ = 0, kFreezeQ_ = 0;
  uint64_t rxFrames_ = 0, rxBytes_ = 0, rxTruncated_ = 0, rxTooBig_ = 0, rxCopied_ = 0, rxCopyLost_ = 0;
  uint64_t txFramesQ_ = 0, txBytes_ = 0, txGsoFrames_ = 0, txGsoBytes_ = 0, txDropped_ = 0, txRingFull_ = 0,
           txWrongFormat_ = 0;
  uint64_t txKicks_ = 0, txKickEagain_ = 0, txKickEnobufs_ = 0, txKickErrors_ = 0;
  int txLastErrno_ = 0;
  uint64_t socketErrors_ = 0;
  int lastSocketErrno_ = 0;
};

}  // namespace

Napi::Object InitAfPacket(Napi::Env env, Napi::Object exports) {
  exports.Set("AfPacketSocket", AfPacketSocket::Define(env));
  return exports;
}
