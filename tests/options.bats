#!/usr/bin/env bats
# One meaning per option letter and per long name across the programs,
# as every --help says, as the table of llm-tools(7) says, and as each
# program's man page says.

load helper

PROGRAMS="llm-prompt llm-request tool-extract tool-run tool-serve tool-mcp
	tool-append llm-status llm-holder llm-mock llm-loop llm-runs"

# pairs PROG: "PROG X LONG" for each "-X, --LONG" of PROG --help, and
# "PROG - LONG" for each long-only "--LONG".
pairs() {
	"$1" --help | sed -n \
		-e "s/^ *-\([A-Za-z]\), --\([a-z][a-z-]*\).*/$1 \1 \2/p" \
		-e "s/^ \{1,6\}--\([a-z][a-z-]*\).*/$1 - \1/p"
}

all_pairs() {
	local p
	for p in $PROGRAMS; do pairs "$p" || return 1; done
}

@test "every program's --help says which options it takes" {
	run --separate-stderr all_pairs
	assert_success
	# Spot checks that the parse finds what it should.
	assert_line 'llm-loop t timeout'
	assert_line 'tool-run T tool-timeout'
	assert_line 'llm-prompt w tools'
	assert_line 'llm-request - connect-timeout'
	assert_line 'llm-runs - all-but'
	[ "${#lines[@]}" -gt 100 ]
}

@test "a letter has one long name in every program that takes it" {
	all_pairs >pairs
	run --separate-stderr awk '$2 != "-" {
		if (($2) in long && long[$2] != $3)
			print "-" $2 ": --" long[$2] " (" who[$2] ") and --" $3 " (" $1 ")"
		long[$2] = $3; who[$2] = $1 }' pairs
	assert_success
	assert_output ''
	# The anchor: llm-loop's letters.
	run grep -c '^llm-loop [A-Za-z] ' pairs
	[ "$output" -ge 39 ]
}

@test "a long name has one letter, or none, in every program that takes it" {
	all_pairs >pairs
	run --separate-stderr awk '{
		if (($3) in letter && letter[$3] != $2)
			print "--" $3 ": " letter[$3] " (" who[$3] ") and " $2 " (" $1 ")"
		letter[$3] = $2; who[$3] = $1 }' pairs
	assert_success
	assert_output ''
}

@test "llm-tools(7)'s table of letters agrees with every --help" {
	all_pairs >pairs
	sed -n 's/^\.It Fl \([A-Za-z]\) Ta Fl \\-\([a-z-]*\) Ta .* Ta \(.*\)$/\1 \2 \3/p' \
		"$ROOT/man/man7/llm-tools.7" >table
	[ "$(wc -l <table)" -ge 45 ]
	# Each letter of a --help is a row, naming that program, and back.
	run --separate-stderr awk '
		NR == FNR {
			letter = $1; long[letter] = $2
			for (i = 3; i <= NF; i++) { w = $i; sub(/,$/, "", w); in_row[letter " " w] = 1 }
			next
		}
		$2 == "-" { next }
		!(($2) in long) { print "-" $2 " of " $1 ": not in the table"; next }
		long[$2] != $3 { print "-" $2 " of " $1 ": --" $3 ", the table says --" long[$2]; next }
		!(($2 " " $1) in in_row) && !(($2 " all") in in_row) {
			print "-" $2 ": the table does not name " $1 }
		{ seen[$2 " " $1] = 1 }
		END {
			for (k in in_row) {
				split(k, f, " ")
				if (f[2] != "all" && !(k in seen))
					print "-" f[1] ": the table names " f[2] ", whose --help has no -" f[1]
			}
		}' table pairs
	assert_success
	assert_output ''
}

@test "no program takes a letter its --help does not name" {
	local p l args
	for p in $PROGRAMS; do
		for args in '' list prune; do
			case $p/$args in llm-runs/) continue ;; */?*) [ "$p" = llm-runs ] || continue ;; esac
			for l in {a..z} {A..U} {W..Z}; do
				[ "$l" != h ] || continue
				pairs "$p" | grep -q "^$p $l " && continue
				run --separate-stderr timeout $((10 * TIME_FACTOR)) "$p" $args "-$l" </dev/null
				if [ "$status" -ne 2 ] || ! [[ $stderr == *"invalid option"* || $stderr == *"unknown option"* ]]; then
					echo "$p $args -$l: status $status: $stderr"
					return 1
				fi
			done
		done
	done
}

@test "each man page lists the options of its program's --help" {
	local p
	for p in $PROGRAMS; do
		pairs "$p" | grep -v -e ' h help$' -e ' V version$' | sort >help
		perl -ne 'next unless /^\.It .*\bFl /;
			while (s/Fl ([A-Za-z])(?: [^,]*?)? (?:,|\|) Fl \\-([a-z][a-z-]*)//) {
				print "'"$p"' $1 $2\n" }
			print "'"$p"' - $1\n" while s/Fl \\-([a-z][a-z-]*)//' \
			"$ROOT/man/man1/$p.1" | grep -v -e ' h help$' -e ' V version$' | sort -u >man
		run diff help man
		assert_success
		# SYNOPSIS: only letters the program takes.
		sed -n '/^\.Sh SYNOPSIS/,/^\.Sh/p' "$ROOT/man/man1/$p.1" |
			grep -o 'Fl [A-Za-z]*' | sed 's/^Fl //' | fold -w1 | sort -u >synopsis
		pairs "$p" | awk '$2 != "-" { print $2 }' | sort -u >letters
		run comm -23 synopsis letters
		assert_output ''
	done
}

@test "each usage line names only letters the program takes" {
	local p
	for p in $PROGRAMS; do
		"$p" --help | sed -n '1,/^[A-Z]/p' | sed '$d' |
			grep -o '\[-[A-Za-z][A-Za-z]*\|(-[A-Za-z]\| -[A-Za-z] ' |
			tr -d '[( -' | fold -w1 | sort -u >usage
		pairs "$p" | awk '$2 != "-" { print $2 }' | sort -u >letters
		run comm -23 usage letters
		assert_output ''
	done
}
