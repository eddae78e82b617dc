// The consumer-group workload (consumers.hpp): the members of one group in a
// world, started, crashed and stopped on the world's calendar. Each member
// is a detail::consumer_member (consumer_member.hpp).
#include "kwire/sim/consumers.hpp"

#include <memory>
#include <stdexcept>

#include "consumer_member.hpp"

namespace kwire::sim {

struct consumer_group::impl {
  world& w;
  consumer_options options;
  consumer_log log;
  std::vector<std::unique_ptr<detail::consumer_member>> members;
  std::vector<detail::broker_address> bootstrap;

  impl(world& w, consumer_options o) : w(w), options(std::move(o)) {
    std::int32_t id = -1;
    for (const auto& b : w.cluster().brokers()) bootstrap.push_back({id--, b.host, b.port});
  }

  detail::consumer_member& member(std::size_t i) {
    if (i >= members.size()) throw std::out_of_range("kwire::sim::consumer_group: no such member");
    return *members[i];
  }
  const detail::consumer_member& member(std::size_t i) const {
    if (i >= members.size()) throw std::out_of_range("kwire::sim::consumer_group: no such member");
    return *members[i];
  }
};

consumer_group::consumer_group(world& w, consumer_options options)
    : impl_(std::make_unique<impl>(w, std::move(options))) {}

consumer_group::~consumer_group() = default;

std::size_t consumer_group::start_member(ms at, std::optional<std::size_t> restart_of) {
  const std::size_t i = impl_->members.size();
  impl_->members.push_back(std::make_unique<detail::consumer_member>(
      impl_->w, impl_->options, impl_->log, i, impl_->bootstrap));
  member_record r;
  r.name = "m" + std::to_string(i + 1);
  r.restart_of = restart_of;
  r.started_at = at;
  impl_->log.members.push_back(std::move(r));
  std::string what = "consumer " + impl_->log.members.back().name + " starts";
  if (restart_of) what += " (restarts m" + std::to_string(*restart_of + 1) + ")";
  impl_->w.at(at, what, [this, i](world&) { impl_->members[i]->start(); });
  return i;
}

void consumer_group::crash_member(std::size_t member, ms at) {
  impl_->member(member);  // throws for an unknown member, now rather than later
  impl_->w.at(at, "consumer m" + std::to_string(member + 1) + " crashes",
              [this, member](world&) { impl_->members[member]->crash(); });
}

void consumer_group::stop_member(std::size_t member, ms at) {
  impl_->member(member);
  impl_->w.at(at, "consumer m" + std::to_string(member + 1) + " stops cleanly",
              [this, member](world&) { impl_->members[member]->stop(); });
}

void consumer_group::stop_all() {
  for (auto& m : impl_->members)
    if (m->running()) m->stop();
}

std::size_t consumer_group::size() const noexcept { return impl_->members.size(); }
bool consumer_group::running(std::size_t member) const { return impl_->member(member).running(); }
bool consumer_group::stable(std::size_t member) const { return impl_->member(member).stable(); }
std::int32_t consumer_group::generation(std::size_t member) const {
  return impl_->member(member).generation();
}
std::vector<std::int32_t> consumer_group::assignment(std::size_t member) const {
  return impl_->member(member).assignment();
}
std::optional<std::int64_t> consumer_group::position(std::size_t member,
                                                     std::int32_t partition) const {
  return impl_->member(member).position(partition);
}
bool consumer_group::finished(std::size_t member) const { return impl_->member(member).finished(); }
const consumer_log& consumer_group::log() const noexcept { return impl_->log; }
const consumer_options& consumer_group::options() const noexcept { return impl_->options; }

}  // namespace kwire::sim
