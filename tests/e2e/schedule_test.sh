#!/usr/bin/env bash
# End-to-end (issue #19): PipelineSchedules on the real stack (test API server, local agent,
# controller) with a real every-minute cron, over two scheduled minutes (about 2 minutes):
# runs are created at the minute with deterministic names and {{schedule.time}} as a parameter;
# Forbid skips the second minute while the first run still runs (an event says so); Replace
# stops the running one and starts the new; history limits delete old runs; an invalid cron or
# time zone is refused naming the field; suspend starts nothing; the printer columns.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init schedule

k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: quick}
spec:
  parameters: [{name: when, type: String}]
  stepDefaults: {image: busybox}
  steps:
  - {name: a, command: [sh, -c, 'echo "{\"when\": \"{{parameters.when}}\"}" > /dev/termination-log']}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: slow}
spec:
  stepDefaults: {image: busybox}
  steps:
  - {name: a, command: [sleep, "100"]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: broken}
spec:
  stepDefaults: {image: busybox}
  steps:
  - {name: a, command: ["false"]}
YAML

schedule() { # NAME PIPELINE CRON EXTRA_SPEC_YAML [PARAMETERS_YAML]
  k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineSchedule
metadata: {name: $1}
spec:
  schedule: "$3"
$4
  executionTemplate:
    metadata: {labels: {team: e2e}}
    spec:
      pipelineName: $2
${5:-}
YAML
}
runs_of() { # SCHEDULE: its runs' names, oldest first
  k get plx -l "stepline.dev/schedule=$1" -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' | sort
}
count_runs() { runs_of "$1" | grep -c . ; }
pls() { jp "pls/$1" "$2"; }
ready_message() { pls "$1" '{.status.conditions[?(@.type=="Ready")].message}'; }

# A time must not come between the apply and the first checks: not in a minute's last 10 s.
while (( 10#$(date +%S) >= 50 )); do sleep 1; done
first_minute=$(( ($(date +%s) / 60 + 1) * 60 ))
EVERY='* * * * *'
schedule history quick "$EVERY" '  successfulHistoryLimit: 1' \
  '      pipelineParameters: [{name: when, value: "{{schedule.time}}"}]'
schedule forbid slow "$EVERY" '  concurrencyPolicy: Forbid'
schedule replace slow "$EVERY" '  concurrencyPolicy: Replace'
schedule failing broken "$EVERY" '  failedHistoryLimit: 0'
schedule paused quick "$EVERY" '  suspend: true
  timeZone: Europe/Paris' '      pipelineParameters: [{name: when, value: x}]'
schedule badcron quick '61 * * * *' ''
schedule badzone quick "$EVERY" '  timeZone: Mars/Olympus_Mons'
start_controller
e2e_log "schedules applied; the first time is $(date -u -d "@$first_minute" +%H:%M:%S)"

check "nextScheduleTime is the next minute" wait_for 20 bash -c "[[ \$(kubectl -n $NS get pls history -o 'jsonpath={.status.nextScheduleTime}') == $(date -u -d "@$first_minute" +%Y-%m-%dT%H:%M:%SZ) ]]"
check "an invalid cron: Ready=False naming spec.schedule" wait_for 30 bash -c \
  "kubectl -n $NS get pls badcron -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].message}' | grep -q 'spec.schedule: field 1 (minute): 61 is out of range 0-59'"
check_eq "its reason" InvalidSchedule "$(pls badcron '{.status.conditions[?(@.type=="Ready")].reason}')"
check "an InvalidSchedule event" has_event badcron InvalidSchedule
check "an unknown time zone: naming spec.timeZone" wait_for 30 bash -c \
  "kubectl -n $NS get pls badzone -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].message}' | grep -q 'spec.timeZone: unknown time zone \"Mars/Olympus_Mons\"'"
check_eq "a suspended schedule has no next time" "" "$(pls paused '{.status.nextScheduleTime}')"

# The first minute.
check "the first runs start at the minute" wait_for 90 bash -c \
  "[[ \$(kubectl -n $NS get plx -l stepline.dev/schedule=history -o name | wc -l) -ge 1 ]]"
run1="history-$((first_minute / 60))"
check_eq "the run's name is the schedule and the scheduled minute" "$run1" "$(runs_of history | head -1)"
check_eq "annotated with the scheduled time" "$(date -u -d "@$first_minute" +%Y-%m-%dT%H:%M:%SZ)" \
  "$(jp "plx/$run1" '{.metadata.annotations.stepline\.dev/scheduled-time}')"
check_eq "the template's labels" e2e "$(jp "plx/$run1" '{.metadata.labels.team}')"
check "it succeeds" wait_for 60 plx_is "$run1" Succeeded
check_eq "{{schedule.time}} reached the step as a parameter" \
  "$(date -u -d "@$first_minute" +%Y-%m-%dT%H:%M:%SZ)" "$(step_field "$run1" a outputs.when)"
check "forbid's first run is running" wait_for 30 bash -c \
  "[[ \$(kubectl -n $NS get plx forbid-$((first_minute / 60)) -o 'jsonpath={.status.steps[0].phase}') == Running ]]"
check "replace's first run is running too (not replaced by its own start)" wait_for 30 bash -c \
  "[[ \$(kubectl -n $NS get plx replace-$((first_minute / 60)) -o 'jsonpath={.status.steps[0].phase}') == Running ]]"
check "lastScheduleTime is the minute" test "$(pls forbid '{.status.lastScheduleTime}')" == \
  "$(date -u -d "@$first_minute" +%Y-%m-%dT%H:%M:%SZ)"
check_eq "ACTIVE is 1" 1 "$(pls forbid '{.status.activeCount}')"
check "the failed run goes at once (failedHistoryLimit 0)" wait_for 60 bash -c \
  "$(declare -f runs_of count_runs k); NS=$NS; [[ \$(count_runs failing) == 0 ]]"
check "a HistoryDeleted event" has_event failing HistoryDeleted
check "the columns" bash -c "kubectl -n $NS get pls forbid | head -1 | grep -qE 'SCHEDULE +SUSPEND +ACTIVE +LAST SCHEDULE +NEXT'"

# The second minute.
second=$((first_minute + 60))
e2e_log "waiting for the second time, $(date -u -d "@$second" +%H:%M:%S)"
check "history's second run starts" wait_for 90 bash -c \
  "kubectl -n $NS get plx history-$((second / 60)) >/dev/null 2>&1"
check "Forbid: the second time is skipped with an event" wait_for 30 has_event forbid ScheduleSkipped
check_eq "and forbid still has one run" "forbid-$((first_minute / 60))" "$(runs_of forbid)"
check_eq "lastSkippedTime is the second minute" "$(date -u -d "@$second" +%Y-%m-%dT%H:%M:%SZ)" \
  "$(pls forbid '{.status.lastSkippedTime}')"
check "Replace: the first run is stopped" wait_for 60 plx_is "replace-$((first_minute / 60))" Stopped
check "and the second runs" wait_for 30 bash -c \
  "kubectl -n $NS get plx replace-$((second / 60)) >/dev/null 2>&1"
check "a ReplacedRun event" has_event replace ReplacedRun
check "successfulHistoryLimit 1: the older run is deleted" wait_for 60 bash -c \
  "$(declare -f runs_of k); NS=$NS; [[ \$(runs_of history) == history-$((second / 60)) ]]"
check_eq "the suspended schedule started nothing" 0 "$(count_runs paused)"
check "lastSuccessfulTime is set" test -n "$(pls history '{.status.lastSuccessfulTime}')"
e2e_finish
