#!/usr/bin/env bash
# people_csv.sh N: a semicolon CSV of N distinct people on stdout, as a spreadsheet export would
# carry them (last;first;birth;numen;rescue_email): distinct last names (so distinct identifiants
# and emails), NUMENs of 13 alphanumerics, valid birth dates. Used by tests/bench/run.sh (the import
# benchmark) and tests/integration/03_import.sh (kill -9 during a large import).
set -u
awk -v n="${1:?usage: people_csv.sh N}" 'BEGIN {
	split("Jean Marie Anne Paul Louise Pierre Claire Luc Sophie Marc", first, " ")
	a = "abcdefghijklmnopqrstuvwxyz"
	print "last;first;birth;numen;rescue_email"
	for (i = 0; i < n; i++) {
		s = ""
		k = i
		for (d = 0; d < 4; d++) {
			s = substr(a, k % 26 + 1, 1) s
			k = int(k / 26)
		}
		printf "Essai%s;%s;%04d-%02d-%02d;%02dA%010d;personne%d@example.net\n",
			s, first[i % 10 + 1], 1950 + i % 50, i % 12 + 1, i % 28 + 1, i % 100, i, i
	}
}'
