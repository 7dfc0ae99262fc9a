// process_cpu.hpp — CPU time for the load clients (avant-load, avant-udp-load): a server
// process's own, from /proc, and the calling process's, from getrusage.
#pragma once

#include <array>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <avant/net/file_descriptor.hpp>
#include <avant/net/io.hpp>

namespace avant::bench {

// CPU seconds (user, system) of a whole process, from /proc/<pid>/stat fields 14 and 15.
struct CpuTimes {
  double user = 0;
  double system = 0;
};

inline CpuTimes process_cpu(long pid) {
  CpuTimes times;
  if (pid <= 0) return times;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const avant::net::FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!file) return times;
  std::array<char, 1024> text{};
  const auto r = avant::net::read_some(file.get(), std::span<char>(text.data(), text.size() - 1));
  if (!r.ok()) return times;
  // The command name (field 2) may hold spaces; fields 3.. follow its closing parenthesis.
  const char* rest = std::strrchr(text.data(), ')');
  if (rest == nullptr) return times;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  // NOLINTNEXTLINE(cert-err34-c): the kernel's own numbers; a mismatch leaves zeros
  if (std::sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) == 2) {
    const auto tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    times.user = static_cast<double>(utime) / tick;
    times.system = static_cast<double>(stime) / tick;
  }
  return times;
}

inline double seconds_of(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

inline double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return seconds_of(usage);
}

}  // namespace avant::bench
