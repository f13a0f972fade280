# Integration scenarios: bash scripts that start a real sotto-relay on a
# free loopback port and drive real sotto engines and frontends
# (tests/integ/lib.sh is their harness). Each runs in well under a minute.
# All are in make check; `make check-integ` runs them outside the harness.
INTEG_SCENARIOS = \
	tests/integ/integ_thousand_each_way.sh \
	tests/integ/integ_offline_catchup.sh \
	tests/integ/integ_relay_kill9.sh \
	tests/integ/integ_engine_kill9_recv.sh \
	tests/integ/integ_engine_kill9_send.sh \
	tests/integ/integ_script_and_rpc_together.sh \
	tests/integ/integ_identity_change.sh \
	tests/integ/integ_prekeys_exhausted.sh \
	tests/integ/integ_chaos.sh \
	tests/integ/integ_bad_input.sh \
	tests/integ/integ_register_resume.sh \
	tests/integ/integ_daemon_passphrase.sh \
	tests/integ/integ_contacts_add.sh \
	tests/integ/integ_long_history.sh \
	tests/integ/integ_tls_relay.sh \
	tests/integ/integ_send_queue.sh
TESTS += $(INTEG_SCENARIOS)
EXTRA_DIST += tests/integ/lib.sh $(INTEG_SCENARIOS)

# Every scenario, passing or not, outside the test harness; logs go to
# tests/integ/NAME.log in the build tree.
check-integ: sotto$(EXEEXT) sotto-relay$(EXEEXT)
	@$(MKDIR_P) tests/integ; failed=0; \
	for t in $(INTEG_SCENARIOS); do \
		log=tests/integ/`basename $$t .sh`.log; \
		if top_builddir='$(abs_top_builddir)' bash $(top_srcdir)/$$t >$$log 2>&1; then \
			echo "PASS: $$t"; else echo "FAIL: $$t (see $$log)"; failed=1; fi; \
	done; test $$failed = 0
.PHONY: check-integ
