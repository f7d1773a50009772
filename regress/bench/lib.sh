# Helpers shared by the benchmarks: ratios and the daemon's memory.
# Sourced after regress/lib/common.sh (CA_PID, W).

# Print $1 / $2 with two decimals, or "-" when $2 is 0.
ratio()
{
	awk -v a="$1" -v b="$2" \
	    'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}

# Print the sum of VmRSS in kB over the daemon and its children.
rss_total()
{
	_t=0
	for _p in $CA_PID $(pgrep -P "$CA_PID" 2>/dev/null); do
		_k=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$_p/status" \
		    2>/dev/null)
		_t=$((_t + ${_k:-0}))
	done
	echo $_t
}

# Sample rss_total every 0.2 s into $W/rss.$1 until rss_growth stops it
# (one hour at most); its pid is RSS_PID.
RSS_PID=
rss_sampler()
{
	(
		_n=0
		while [ $_n -lt 18000 ]; do
			rss_total
			sleep 0.2
			_n=$((_n + 1))
		done
	) >"$W/rss.$1" &
	RSS_PID=$!
}

# Stop the sampler (also what a benchmark's exit does); quiet when none
# runs.
rss_stop()
{
	[ -n "$RSS_PID" ] || return 0
	kill "$RSS_PID" 2>/dev/null
	wait "$RSS_PID" 2>/dev/null
	RSS_PID=
	return 0
}

# Stop the sampler of set $1; set RSS_GROW to the growth in MiB of its
# maximum over the baseline $2 kB.  Not in a subshell: it must clear
# RSS_PID, so that no later kill names a pid that is no longer ours.
rss_growth()
{
	rss_stop
	RSS_GROW=$(awk -v base="$2" 'BEGIN { max = base }
	    $1 + 0 > max { max = $1 + 0 }
	    END { printf "%.1f", (max - base) / 1024 }' "$W/rss.$1")
}
