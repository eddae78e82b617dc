# Runs `kwire sim` twice with the same arguments and fails unless both print
# the same digest (and a different seed prints another): a run is a pure
# function of its seed.
# Usage: cmake -DKWIRE=path/to/kwire [-DWORKLOAD=consumers] [-DRUNS=50] -P same_digest.cmake
if(NOT DEFINED RUNS)
  set(RUNS 50)
endif()
set(workload_args)
if(DEFINED WORKLOAD)
  set(workload_args --workload ${WORKLOAD})
endif()
function(sim_digest seed out)
  execute_process(COMMAND ${KWIRE} sim ${workload_args} --seed ${seed} --runs ${RUNS}
                  OUTPUT_VARIABLE stdout RESULT_VARIABLE rc)
  string(REGEX MATCH "\"digest\": ?\"([0-9a-f]+)\"" found "${stdout}")
  if(NOT found)
    message(FATAL_ERROR "kwire sim ${workload_args} --seed ${seed} printed no digest (exit ${rc}):\n${stdout}")
  endif()
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

sim_digest(7 first)
sim_digest(7 second)
sim_digest(8 other)
if(NOT first STREQUAL second)
  message(FATAL_ERROR "two runs of seeds 7.. (${RUNS} runs) gave digests ${first} and ${second}")
endif()
if(first STREQUAL other)
  message(FATAL_ERROR "seeds 7.. and 8.. gave the same digest ${first}: the digest does not see the runs")
endif()
message(STATUS "digest ${first} twice; seeds 8.. give ${other}")
