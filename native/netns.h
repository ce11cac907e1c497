// Temporarily moves the calling thread into a named network namespace (/run/netns/<name>, as `ip netns`
// creates them). Sockets keep the namespace they were created in, so a packet socket or an ioctl socket
// opened inside the scope stays bound to that namespace after the thread switches back.
#pragma once
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <cerrno>
#include <string>

class NetnsScope {
 public:
  // An empty name means "stay in the current namespace". On failure err() is the errno and op() names the call.
  explicit NetnsScope(const std::string& name) {
    if (name.empty()) return;
    if (name.find('/') != std::string::npos) { fail("netns_name", EINVAL); return; }
    orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig_ < 0) { fail("open_current_netns", errno); return; }
    int target = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) { fail("open_netns", errno); return; }
    if (setns(target, CLONE_NEWNET) < 0) { int e = errno; close(target); fail("setns", e); return; }
    close(target);
    entered_ = true;
  }
  ~NetnsScope() {
    // Returning to the original namespace cannot reasonably fail (we hold its fd); abort loudly if it does,
    // since continuing in the wrong namespace would silently misroute everything after.
    if (entered_ && setns(orig_, CLONE_NEWNET) < 0) abort();
    if (orig_ >= 0) close(orig_);
  }
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

  int err() const { return err_; }
  const char* op() const { return op_; }

 private:
  void fail(const char* op, int e) { op_ = op; err_ = e; }
  int orig_ = -1;
  bool entered_ = false;
  int err_ = 0;
  const char* op_ = "";
};
