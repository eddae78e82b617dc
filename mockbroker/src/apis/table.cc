// The served APIs, one line each, by API key. Each handler is defined in
// the file of its API family in this folder. ApiVersions advertises exactly
// these keys, and a request of any other key closes its connection.
#include <algorithm>
#include <array>

#include "../handler.hpp"

namespace kwire::mockbroker::detail {

extern const api_handler produce_api, fetch_api, list_offsets_api, metadata_api, offset_commit_api,
    offset_fetch_api, find_coordinator_api, join_group_api, heartbeat_api, leave_group_api,
    sync_group_api, describe_groups_api, list_groups_api, api_versions_api, create_topics_api,
    delete_topics_api, delete_records_api, init_producer_id_api, offset_for_leader_epoch_api,
    describe_log_dirs_api, elect_leaders_api, delete_groups_api, offset_delete_api,
    describe_configs_api, alter_configs_api, create_partitions_api, incremental_alter_configs_api,
    describe_cluster_api, consumer_group_heartbeat_api, consumer_group_describe_api;

namespace {

constexpr std::array served = {
    &produce_api,                    // 0, produce.cc
    &fetch_api,                      // 1, fetch.cc
    &list_offsets_api,               // 2, list_offsets.cc
    &metadata_api,                   // 3, metadata.cc
    &offset_commit_api,              // 8, group_offsets.cc
    &offset_fetch_api,               // 9, group_offsets.cc
    &find_coordinator_api,           // 10, find_coordinator.cc
    &join_group_api,                 // 11, group_membership.cc
    &heartbeat_api,                  // 12, group_membership.cc
    &leave_group_api,                // 13, group_membership.cc
    &sync_group_api,                 // 14, group_membership.cc
    &describe_groups_api,            // 15, group_admin.cc
    &list_groups_api,                // 16, group_admin.cc
    &api_versions_api,               // 18, api_versions.cc
    &create_topics_api,              // 19, topics.cc
    &delete_topics_api,              // 20, topics.cc
    &delete_records_api,             // 21, delete_records.cc
    &init_producer_id_api,           // 22, producer_ids.cc
    &offset_for_leader_epoch_api,    // 23, offset_for_leader_epoch.cc
    &describe_configs_api,           // 32, describe_configs.cc
    &alter_configs_api,              // 33, alter_configs.cc
    &describe_log_dirs_api,          // 35, describe_log_dirs.cc
    &create_partitions_api,          // 37, create_partitions.cc
    &delete_groups_api,              // 42, group_admin.cc
    &elect_leaders_api,              // 43, elect_leaders.cc
    &incremental_alter_configs_api,  // 44, alter_configs.cc
    &offset_delete_api,              // 47, group_offsets.cc
    &describe_cluster_api,           // 60, describe_cluster.cc
    &consumer_group_heartbeat_api,   // 68, consumer_group.cc
    &consumer_group_describe_api,    // 69, consumer_group.cc
};

}  // namespace

std::span<const api_handler* const> served_apis() noexcept { return served; }

const api_handler* find_handler(std::int16_t key) noexcept {
  for (const api_handler* h : served)
    if (h->key == key) return h;
  return nullptr;
}

}  // namespace kwire::mockbroker::detail
