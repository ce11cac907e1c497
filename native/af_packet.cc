// One AF_PACKET socket bound to one interface: a TPACKET_V3 RX ring and a TX ring in one mmap.
// rx() copies every frame the kernel has handed over (up to the caller's capacity) into a JS-owned arena and
// returns blocks to the kernel; tx() fills TX frames from a JS buffer and kicks the kernel once. One N-API
// call per batch, never per packet. No protocol logic lives here.
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

constexpr uint32_t TX_DATA_OFFSET = TPACKET_ALIGN(sizeof(tpacket3_hdr));  // kernel default without TX_HAS_OFF

struct Options {
  std::string netns;
  bool offload = true;        // PACKET_VNET_HDR
  bool qdiscBypass = true;    // PACKET_QDISC_BYPASS
  uint32_t fanoutGroup = 0;   // 0: no fanout; else PACKET_FANOUT hash group id (1..65535)
  uint32_t rxFrameSize = 2048, rxFramesPerBlock = 32, rxBlocks = 160, rxRetireMs = 1;
  uint32_t txFrameSize = 2048, txFrames = 1024, txFramesPerBlock = 32;
};

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
      o.offload = GetBool(js, "offload", o.offload);
      o.qdiscBypass = GetBool(js, "qdiscBypass", o.qdiscBypass);
      o.fanoutGroup = GetU32(js, "fanoutGroup", o.fanoutGroup);
      o.rxFrameSize = GetU32(js, "rxFrameSize", o.rxFrameSize);
      o.rxFramesPerBlock = GetU32(js, "rxFramesPerBlock", o.rxFramesPerBlock);
      o.rxBlocks = GetU32(js, "rxBlocks", o.rxBlocks);
      o.rxRetireMs = GetU32(js, "rxRetireMs", o.rxRetireMs);
      o.txFrameSize = GetU32(js, "txFrameSize", o.txFrameSize);
      o.txFrames = GetU32(js, "txFrames", o.txFrames);
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
  // Returns 0 or an errno, with *op naming the failed call.
  int Open(const Options& o, const char** op) {
    NetnsScope scope(o.netns);  // the socket belongs to the namespace it is created in
    if (scope.err()) { *op = scope.op(); return scope.err(); }
    // Protocol 0 until bind: the socket must not see traffic from every interface in the meantime.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) { *op = "socket"; return errno; }
    int ifflags = 0, err = 0;
    if (!QueryInterface(fd_, name_, &ifindex_, mac_, &mtu_, &ifflags, op, &err)) return err;

    int v = TPACKET_V3;
    if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { *op = "PACKET_VERSION"; return errno; }
    if (o.offload) {
      v = 1;
      vnet_ = setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &v, sizeof v) == 0;
    }
    v = 1;  // malformed TX frames are skipped instead of stalling the ring
    if (setsockopt(fd_, SOL_PACKET, PACKET_LOSS, &v, sizeof v) < 0) { *op = "PACKET_LOSS"; return errno; }
    if (o.qdiscBypass && setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v) < 0) {
      *op = "PACKET_QDISC_BYPASS";
      return errno;
    }
    // Frames the host stack itself sends out of this interface are not input to the dataplane.
    if (setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v) < 0 && errno != ENOPROTOOPT) {
      *op = "PACKET_IGNORE_OUTGOING";
      return errno;
    }

    tpacket_req3 rx{};
    rx.tp_block_size = o.rxFrameSize * o.rxFramesPerBlock;
    rx.tp_block_nr = o.rxBlocks;
    rx.tp_frame_size = o.rxFrameSize;
    rx.tp_frame_nr = o.rxBlocks * o.rxFramesPerBlock;
    rx.tp_retire_blk_tov = o.rxRetireMs;
    if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) < 0) { *op = "PACKET_RX_RING"; return errno; }
    if (o.txFrames % o.txFramesPerBlock != 0) { *op = "PACKET_TX_RING"; return EINVAL; }
    tpacket_req3 tx{};
    tx.tp_block_size = o.txFrameSize * o.txFramesPerBlock;
    tx.tp_block_nr = o.txFrames / o.txFramesPerBlock;
    tx.tp_frame_size = o.txFrameSize;
    tx.tp_frame_nr = o.txFrames;
    if (setsockopt(fd_, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0) { *op = "PACKET_TX_RING"; return errno; }

    size_t rxBytes = size_t(rx.tp_block_size) * rx.tp_block_nr;
    size_t txBytes = size_t(tx.tp_block_size) * tx.tp_block_nr;
    void* m = mmap(nullptr, rxBytes + txBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (m == MAP_FAILED) { *op = "mmap"; return errno; }
    map_ = static_cast<uint8_t*>(m);
    mapLen_ = rxBytes + txBytes;
    rxBlockSize_ = rx.tp_block_size;
    rxBlocks_ = rx.tp_block_nr;
    txRing_ = map_ + rxBytes;
    txFrameSize_ = tx.tp_frame_size;
    txFrames_ = tx.tp_frame_nr;

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
    return 0;
  }

  void Release() {
    if (map_) munmap(map_, mapLen_);
    map_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  tpacket_block_desc* RxBlock(uint32_t i) const {
    return reinterpret_cast<tpacket_block_desc*>(map_ + size_t(i) * rxBlockSize_);
  }

  // rx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, meta: Uint16Array, slotSize = 0,
  //    end = capacity of the arrays, first = 0) -> index after the last frame written
  //   Frames are written at indices first..end-1, so several queues can fill one batch in turn.
  //   slotSize 0 ("packed"): frames are copied back to back from data[0]; offsets[] is output.
  //   slotSize > 0 ("slots"): offsets[i] is input, the start of a slot of slotSize bytes for frame i (e.g. a
  //   buffer pool's data areas); a frame longer than a slot is dropped and counted (rxTooBig).
  Napi::Value Rx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint8_t* data;
    uint32_t *offsets, *lengths;
    uint16_t* meta;
    size_t dataLen, nOff, nLen, nMeta;
    if (!TypedArg(info, 0, napi_uint8_array, &data, &dataLen) ||
        !TypedArg(info, 1, napi_uint32_array, &offsets, &nOff) ||
        !TypedArg(info, 2, napi_uint32_array, &lengths, &nLen) ||
        !TypedArg(info, 3, napi_uint16_array, &meta, &nMeta))
      return ThrowType(env, "rx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, meta: Uint16Array)");
    if (fd_ < 0) return ThrowErrno(env, "rx", EBADF);
    size_t cap = std::min(std::min(nOff, nLen), nMeta / META_STRIDE);
    size_t slot = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
    if (info.Length() > 5 && info[5].IsNumber()) cap = std::min(cap, size_t(info[5].As<Napi::Number>().Uint32Value()));
    size_t first = info.Length() > 6 && info[6].IsNumber() ? info[6].As<Napi::Number>().Uint32Value() : 0;
    if (first > cap) first = cap;
    size_t n = first, used = 0;
    if (!slot && first > 0) {
      used = size_t(offsets[first - 1]) + lengths[first - 1];  // packed: continue after the previous frame
      if (used > dataLen) return ThrowType(env, "rx: offsets/lengths before `first` exceed data");
    }
    if (slot) {
      // Checked before touching the ring so a bad slot list cannot lose frames.
      for (size_t i = first; i < cap; i++)
        if (size_t(offsets[i]) + slot > dataLen) {
          Napi::RangeError::New(env, "rx: slot " + std::to_string(i) + " exceeds data").ThrowAsJavaScriptException();
          return env.Undefined();
        }
    }

    while (n < cap) {
      tpacket_block_desc* b = RxBlock(rxBlock_);
      if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
      if (!rxPkt_) {
        rxPktLeft_ = b->hdr.bh1.num_pkts;
        rxPkt_ = reinterpret_cast<uint8_t*>(b) + b->hdr.bh1.offset_to_first_pkt;
      }
      bool arenaFull = false;
      while (rxPktLeft_ > 0 && n < cap) {
        const tpacket3_hdr* h = reinterpret_cast<const tpacket3_hdr*>(rxPkt_);
        const uint8_t* frame = rxPkt_ + h->tp_mac;
        uint32_t snap = h->tp_snaplen;
        bool vlan = (h->tp_status & TP_STATUS_VLAN_VALID) && snap >= 12;
        size_t outLen = snap + (vlan ? 4 : 0);
        if (outLen > (slot ? slot : dataLen)) {
          rxTooBig_++;  // could never fit: drop rather than wedge the ring
        } else if (!slot && used + outLen > dataLen) {
          arenaFull = true;
          break;
        } else {
          size_t at = slot ? offsets[n] : used;
          uint8_t* out = data + at;
          uint16_t flags = 0, csumStart = 0, csumOffset = 0, gsoSize = 0;
          if (vlan) {
            memcpy(out, frame, 12);
            uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
            uint16_t tag[2] = {htons(tpid), htons(uint16_t(h->hv1.tp_vlan_tci))};
            memcpy(out + 12, tag, 4);
            memcpy(out + 16, frame + 12, snap - 12);
            flags |= F_VLAN;
          } else {
            memcpy(out, frame, snap);
          }
          if (h->tp_status & TP_STATUS_CSUMNOTREADY) flags |= F_CSUM_PARTIAL;
          if (h->tp_status & TP_STATUS_CSUM_VALID) flags |= F_CSUM_VALID;
          if (h->tp_len > snap) { flags |= F_TRUNCATED; rxTruncated_++; }
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
          offsets[n] = uint32_t(at);
          lengths[n] = uint32_t(outLen);
          uint16_t* m = meta + n * META_STRIDE;
          m[META_FLAGS] = flags;
          m[META_CSUM_START] = csumStart;
          m[META_CSUM_OFFSET] = csumOffset;
          m[META_GSO_SIZE] = gsoSize;
          n++;
          if (!slot) used += outLen;
          rxBytes_ += outLen;
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
    rxFrames_ += n - first;
    return Napi::Number::New(env, double(n));
  }

  // tx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, meta?: Uint16Array)
  //   -> frames consumed from the front of the batch (queued + dropped as too big). Fewer than count means
  //      the ring is full; the rest stays with the caller.
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
    const size_t vnetLen = vnet_ ? sizeof(VnetHdr) : 0;
    const size_t maxFrame = txFrameSize_ - TX_DATA_OFFSET - vnetLen;
    size_t i = 0, queued = 0;
    for (; i < count; i++) {
      uint32_t off = offsets[i], len = lengths[i];
      if (len == 0 || len > maxFrame || size_t(off) + len > dataLen) {
        txDropped_++;  // cannot be sent from this ring: consumed and counted
        continue;
      }
      tpacket3_hdr* h = reinterpret_cast<tpacket3_hdr*>(txRing_ + size_t(txNext_) * txFrameSize_);
      uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
      if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) {
        txRingFull_++;
        break;
      }
      if (st & TP_STATUS_WRONG_FORMAT) txWrongFormat_++;
      uint8_t* dst = reinterpret_cast<uint8_t*>(h) + TX_DATA_OFFSET;
      if (vnet_) {
        VnetHdr vh{};  // no GSO; checksum offload only when the caller asks for it
        if (meta && (meta[i * META_STRIDE + META_FLAGS] & F_CSUM_PARTIAL)) {
          vh.flags = VNET_F_NEEDS_CSUM;
          vh.csum_start = meta[i * META_STRIDE + META_CSUM_START];
          vh.csum_offset = meta[i * META_STRIDE + META_CSUM_OFFSET];
        }
        memcpy(dst, &vh, sizeof vh);
      }
      memcpy(dst + vnetLen, data + off, len);
      h->tp_len = uint32_t(len + vnetLen);
      h->tp_next_offset = 0;
      __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
      txNext_ = (txNext_ + 1) % txFrames_;
      queued++;
      txBytes_ += len;
    }
    txFrames_q_ += queued;
    if (queued > 0 || kickPending_) Kick();
    return Napi::Number::New(env, double(i));
  }

  void Kick() {
    txKicks_++;
    if (sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) {
      kickPending_ = false;
      return;
    }
    int e = errno;
    if (e != EAGAIN && e != EWOULDBLOCK && e != ENOBUFS) {
      // A link flap leaves a stale socket error (ENETDOWN) that fails the next send even after the link is
      // back: consume it and try once more, so only a current condition counts.
      ClearSocketError();
      if (sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) {
        kickPending_ = false;
        return;
      }
      e = errno;
    }
    // Frames stay marked SEND_REQUEST; the next kick (any tx call, or flushTx) pushes them.
    kickPending_ = true;
    if (e == EAGAIN || e == EWOULDBLOCK) txKickEagain_++;
    else if (e == ENOBUFS) txKickEnobufs_++;
    else { txKickErrors_++; txLastErrno_ = e; }
  }

  // Reads (and so resets) the socket's pending error; 0 if none.
  int ClearSocketError() {
    int err = 0;
    socklen_t l = sizeof err;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &l) < 0) return errno;
    if (err) { socketErrors_++; lastSocketErrno_ = err; }
    return err;
  }

  // clearError() -> errno name of the pending socket error, or null. A pending error makes the fd report
  // POLLERR, which stops a libuv poll handle: clear it before restarting the watch.
  Napi::Value ClearError(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return env.Null();
    int e = ClearSocketError();
    const char* name = e ? strerrorname_np(e) : nullptr;
    return name ? Napi::Value(Napi::String::New(env, name)) : env.Null();
  }

  // stats() -> counters since open; kernel counters are accumulated (reading them resets the kernel's copy).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ >= 0) {
      tpacket_stats_v3 st{};
      socklen_t l = sizeof st;
      if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &l) < 0)
        return ThrowErrno(env, "PACKET_STATISTICS", errno);
      kPackets_ += st.tp_packets;
      kDrops_ += st.tp_drops;
      kFreezeQ_ += st.tp_freeze_q_cnt;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("kernelPackets", double(kPackets_));
    o.Set("kernelDrops", double(kDrops_));
    o.Set("kernelFreezeQueueCount", double(kFreezeQ_));
    o.Set("rxFrames", double(rxFrames_));
    o.Set("rxBytes", double(rxBytes_));
    o.Set("rxTruncated", double(rxTruncated_));
    o.Set("rxTooBig", double(rxTooBig_));
    o.Set("txFrames", double(txFrames_q_));
    o.Set("txBytes", double(txBytes_));
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

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value Offload(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), vnet_); }
  Napi::Value TxMaxFrame(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(txFrameSize_ - TX_DATA_OFFSET - (vnet_ ? sizeof(VnetHdr) : 0)));
  }

  std::string name_;
  int fd_ = -1, ifindex_ = 0, mtu_ = 0;
  uint8_t mac_[6] = {};
  bool vnet_ = false;
  uint8_t* map_ = nullptr;
  size_t mapLen_ = 0;
  // RX ring walk position: current block, and inside it the next packet (nullptr = block not started).
  uint32_t rxBlockSize_ = 0, rxBlocks_ = 0, rxBlock_ = 0, rxPktLeft_ = 0;
  uint8_t* rxPkt_ = nullptr;
  // TX ring position.
  uint8_t* txRing_ = nullptr;
  uint32_t txFrameSize_ = 0, txFrames_ = 0, txNext_ = 0;
  bool kickPending_ = false;
  uint64_t kPackets_ = 0, kDrops_ = 0, kFreezeQ_ = 0;
  uint64_t rxFrames_ = 0, rxBytes_ = 0, rxTruncated_ = 0, rxTooBig_ = 0;
  uint64_t txFrames_q_ = 0, txBytes_ = 0, txDropped_ = 0, txRingFull_ = 0, txWrongFormat_ = 0;
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
