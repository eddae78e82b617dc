#include "kwire/producer/detail/accumulator.hpp"

#include <catch2/catch.hpp>

using namespace kwire;
using namespace kwire::detail;
using namespace std::chrono_literals;

namespace {
std::string value_of(std::size_t n) { return std::string(n, 'v'); }
// A time of the core's clock, this long after the Unix epoch.
core_time at(core_duration since_epoch) { return core_time(since_epoch); }
}  // namespace

TEST_CASE("accumulator: linger.ms decides when a partial batch is ready") {
  record_accumulator acc({16384, 1 << 20, 1 << 20, 5ms, compression::none});
  partition_queue q("t", 0);
  const std::string v = value_of(10);
  CHECK_FALSE(acc.ready(q, at(0ms)));
  CHECK_FALSE(acc.ready_time(q));
  REQUIRE(acc.append(q, 1, std::nullopt, bytes_of(v), {}, 1, at(100ms)) ==
          append_status::appended_new);
  REQUIRE(acc.append(q, 1, std::nullopt, bytes_of(v), {}, 2, at(103ms)) == append_status::appended);
  CHECK(acc.ready_time(q) == at(105ms));
  CHECK_FALSE(acc.ready(q, at(104ms)));
  CHECK(acc.ready(q, at(105ms)));
  CHECK(acc.ready(q, at(101ms), /*flushing=*/true));
  auto batch = acc.take_front(q);
  CHECK(batch->record_count() == 2);
  REQUIRE(batch->close());
  auto read = read_record_batch(batch->encoded);
  REQUIRE(read);
  CHECK(read->header().records_count == 2);
  acc.release(*batch);
  CHECK(acc.buffered_bytes() == 0);
}

TEST_CASE("accumulator: batch.size closes a batch before it overflows") {
  record_accumulator acc({200, 1 << 20, 1 << 20, 1000ms, compression::none});
  partition_queue q("t", 0);
  const std::string v = value_of(40);
  int batches = 0;
  for (std::uint64_t i = 0; i < 10; ++i)
    if (acc.append(q, 1, std::nullopt, bytes_of(v), {}, i, at(0ms)) == append_status::appended_new)
      ++batches;
  CHECK(batches == static_cast<int>(q.batches.size()));
  REQUIRE(q.batches.size() >= 3);
  // Every batch but the last is full and ready at once; each stays within batch.size.
  CHECK(acc.ready(q, at(0ms)));
  for (std::size_t i = 0; i + 1 < q.batches.size(); ++i) {
    CHECK(q.batches[i]->full);
    CHECK(q.batches[i]->builder.size_in_bytes() <= 200);
  }
  std::size_t records = 0;
  for (const auto& b : q.batches) records += b->records.size();
  CHECK(records == 10);
  // A record larger than batch.size gets a batch of its own.
  const std::string big = value_of(1000);
  CHECK(acc.append(q, 1, std::nullopt, bytes_of(big), {}, 99, at(0ms)) ==
        append_status::appended_new);
  CHECK(q.batches.back()->records.size() == 1);
  CHECK(q.batches.back()->reserved_bytes > 1000);
}

TEST_CASE("accumulator: buffer.memory refuses a new batch, and release frees it") {
  record_accumulator acc({1000, 2500, 1 << 20, 0ms, compression::none});
  partition_queue a("t", 0), b("t", 1), c("t", 2);
  const std::string v = value_of(10);
  CHECK(acc.append(a, 1, std::nullopt, bytes_of(v), {}, 1, at(0ms)) == append_status::appended_new);
  CHECK(acc.append(b, 1, std::nullopt, bytes_of(v), {}, 2, at(0ms)) == append_status::appended_new);
  CHECK(acc.buffered_bytes() == 2000);
  CHECK(acc.append(c, 1, std::nullopt, bytes_of(v), {}, 3, at(0ms)) == append_status::buffer_full);
  CHECK(c.batches.empty());
  // Appending to an open batch needs no new memory.
  CHECK(acc.append(a, 1, std::nullopt, bytes_of(v), {}, 4, at(0ms)) == append_status::appended);
  auto batch = acc.take_front(a);
  acc.release(*batch);
  CHECK(acc.append(c, 1, std::nullopt, bytes_of(v), {}, 3, at(0ms)) == append_status::appended_new);
  // Larger than buffer.memory or max.request.size: never fits.
  const std::string huge = value_of(3000);
  CHECK(acc.append(c, 1, std::nullopt, bytes_of(huge), {}, 5, at(0ms)) ==
        append_status::record_too_large);
}

TEST_CASE("accumulator: retries go back in sequence order, before new batches") {
  record_accumulator acc({16384, 1 << 20, 1 << 20, 0ms, compression::none});
  partition_queue q("t", 0);
  const std::string v = value_of(10);
  for (std::uint64_t i = 0; i < 3; ++i) {
    acc.append(q, 1, std::nullopt, bytes_of(v), {}, i, at(0ms));
    q.batches.back()->full = true;
  }
  auto b0 = acc.take_front(q);
  auto b1 = acc.take_front(q);
  b0->base_sequence = 0;
  b1->base_sequence = 1;
  b0->attempts = b1->attempts = 1;
  acc.reenqueue(q, std::move(b1));
  acc.reenqueue(q, std::move(b0));
  REQUIRE(q.batches.size() == 3);
  CHECK(q.batches[0]->base_sequence == 0);
  CHECK(q.batches[1]->base_sequence == 1);
  CHECK(q.batches[2]->base_sequence == -1);
  // A retried batch waits for its backoff, not linger.
  q.batches[0]->retry_after = at(50ms);
  CHECK_FALSE(acc.ready(q, at(49ms)));
  CHECK(acc.ready(q, at(50ms)));
}
