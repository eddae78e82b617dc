// The served APIs, one line each, by API key. Each handler is defined in
// the file of its API family in this folder. ApiVersions advertises exactly
// these keys, and a request of any other key closes its connection.
#include <algorithm>
#include <array>

#include "../handler.hpp"

namespace kwire::mockbroker::detail {

extern const api_handler produce_api, fetch_api, list_offsets_api, metadata_api,
    find_coordinator_api, api_versions_api, create_topics_api, delete_topics_api,
    init_producer_id_api, describe_cluster_api;

namespace {

constexpr std::array served = {
    &produce_api,           // 0, produce.cc
    &fetch_api,             // 1, fetch.cc
    &list_offsets_api,      // 2, list_offsets.cc
    &metadata_api,          // 3, metadata.cc
    &find_coordinator_api,  // 10, find_coordinator.cc
    &api_versions_api,      // 18, api_versions.cc
    &create_topics_api,     // 19, topics.cc
    &delete_topics_api,     // 20, topics.cc
    &init_producer_id_api,  // 22, producer_ids.cc
    &describe_cluster_api,  // 60, describe_cluster.cc
};

}  // namespace

std::span<const api_handler* const> served_apis() noexcept { return served; }

const api_handler* find_handler(std::int16_t key) noexcept {
  for (const api_handler* h : served)
    if (h->key == key) return h;
  return nullptr;
}

}  // namespace kwire::mockbroker::detail
