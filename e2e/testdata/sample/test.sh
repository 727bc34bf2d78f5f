#!/bin/sh
# test.sh tests the sample's greeting against test/greeting.txt and writes the outcome as JUnit XML, as a project's
# test step would. Like a careless test it prints the staging password it was given ($STAGING_PASSWORD): the e2e
# test checks that the report of its failure never carries it to GitHub.
#
#   sh test.sh RESULTS    writes RESULTS (JUnit XML); exits 1 when the greeting is not the expected one
set -eu
results=$1
# shellcheck disable=SC2034 # greet (src/greet.sh) prints it
HELLO_VERSION=$(cat VERSION)
# shellcheck source=/dev/null # the sample's own function, checked on its own
. ./src/greet.sh
echo "signing in to staging with ${STAGING_PASSWORD:-}"
got=$(greet e2e)
want=$(cat test/greeting.txt)
if [ "$got" = "$want" ]; then
	outcome='failures="0"><testcase classname="hello" name="TestGreeting"/>'
else
	outcome='failures="1"><testcase classname="hello" name="TestGreeting"><failure message="the greeting differs">'"got $got, want $want"'</failure></testcase>'
fi
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="hello" tests="1" %s</testsuite></testsuites>\n' "$outcome" >"$results"
if [ "$got" != "$want" ]; then
	echo "FAIL TestGreeting: got $got, want $want"
	exit 1
fi
echo "ok TestGreeting: $got"
