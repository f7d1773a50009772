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
# (one hour at most).  Each sampler has its own stop file, so that one
# still sleeping cannot miss its stop when the next one starts.
RSS_N=0
rss_sampler()
{
	RSS_N=$((RSS_N + 1))
	_stop=$W/rss.stop.$RSS_N
	(
		_n=0
		while [ ! -e "$_stop" ] && [ $_n -lt 18000 ]; do
			rss_total
			sleep 0.2
			_n=$((_n + 1))
		done
	) >"$W/rss.$1" &
	RSS_PID=$!
}

# Stop the sampler of set $1; print the growth in MiB of its maximum over
# the baseline $2 kB.
rss_growth()
{
	touch "$W/rss.stop.$RSS_N"
	wait "$RSS_PID" 2>/dev/null
	awk -v base="$2" 'BEGIN { max = base } $1 > max { max = $1 }
	    END { printf "%.1f", (max - base) / 1024 }' "$W/rss.$1"
}
