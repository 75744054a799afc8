# torch-stub.awk — used by scripts/torch-setup.sh (issue 8: the libtorch backend).
#
# Replaces the bodies of the C/C++ functions that enclose the given line numbers
# with a body that raises an error through gotch's PROTECT mechanism, so that
# gotch's libtch compiles against a libtorch whose API differs from the one
# gotch's wrappers were generated for. The caller finds the lines by compiling.
#
#   awk -v lines=308,315 -v tag=hivegym-stub -v names=FILE -f torch-stub.awk in.cpp > out.cpp
#
# lines: comma-separated line numbers (compiler error locations) in the input.
# names: file that receives the name of every stubbed function, one a line.
# Exit status 2 when a line is not inside a function this program recognises
# (a top-level function starting at column 0 and ending with "}" at column 0, or
# a one-line function), or when the function is already a stub (no progress).

function is_start(s) {
	return s ~ /^[A-Za-z_]/ && index(s, "(") > 0 &&
		s !~ /^(typedef|using|namespace|extern|template|static_assert|return)[^A-Za-z0-9_]/
}

function fail(msg) {
	print "torch-stub.awk: " FILENAME ": " msg > "/dev/stderr"
	failed = 1
	exit 2
}

{ src[NR] = $0 }

END {
	if (failed) exit 2
	n = NR
	nerr = split(lines, errs, ",")
	for (i = 1; i <= nerr; i++) {
		L = errs[i] + 0
		if (L < 1 || L > n) fail("line " errs[i] " out of range")
		s = L
		while (s >= 1 && !is_start(src[s])) {
			if (s < L && src[s] ~ /^}/) s = 0
			else s--
		}
		if (s < 1) fail("line " L " is not inside a recognised function")
		b = s
		while (b <= n && index(src[b], "{") == 0) b++
		if (b > n) fail("no opening brace for the function at line " s)
		rest = substr(src[b], index(src[b], "{") + 1)
		if (rest ~ /}[ \t]*$/) {
			e = b
		} else {
			e = b + 1
			while (e <= n && src[e] !~ /^}/) e++
			if (e > n) fail("no closing brace for the function at line " s)
		}
		if (L > e) fail("line " L " is not inside a recognised function")
		if (!match(src[s], /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) fail("no function name at line " s)
		name = substr(src[s], RSTART, RLENGTH - 1)
		sub(/[ \t]+$/, "", name)
		prefix = substr(src[s], 1, RSTART - 1)
		for (k = b; k <= e; k++)
			if (index(src[k], tag)) fail(name " is already stubbed and still fails to compile (line " L ")")
		if (!(s in end_of)) {
			end_of[s] = e
			brace_of[s] = b
			name_of[s] = name
			void_of[s] = (prefix ~ /^void[ \t]+$/)
			if (names != "") print name > names
		}
	}
	for (i = 1; i <= n; i++) {
		if (!(i in end_of)) {
			print src[i]
			continue
		}
		b = brace_of[i]
		for (k = i; k < b; k++) print src[k]
		print substr(src[b], 1, index(src[b], "{"))
		print "  // " tag ": this wrapper does not compile against the installed libtorch."
		print "  PROTECT("
		print "    throw std::runtime_error(\"" name_of[i] ": not available in the installed libtorch (" tag ")\");"
		print "  )"
		if (!void_of[i]) print "  return {};"
		print "}"
		i = end_of[i]
	}
}
