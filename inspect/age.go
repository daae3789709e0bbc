package inspect

// orphanAge bounds from below the age of an orphaned FIN_WAIT2 socket,
// which has no tcp_info to tell it: the kernel keeps it as a timewait
// socket whose timer was set to tcp_fin_timeout when it entered the state
// (tcp_time_wait(sk, TCP_FIN_WAIT2, tmo) in net/ipv4/tcp.c and
// tcp_input.c), so the time it has been there is the timeout less the time
// left. The timer is in clock ticks (USER_HZ, 10 ms), as both /proc/net/tcp
// and netlink's expires (in ms, divided by 10 when decoded) give it. A
// socket whose own TCP_LINGER2 was shorter than tcp_fin_timeout would look
// older than it is; a longer one, or a timeout past TCP_TIMEWAIT_LEN,
// younger, which a lower bound allows. finTimeout 0 (unknown) leaves it.
func orphanAge(s *Socket, finTimeout uint64) {
	if s.State != FinWait2 || s.HasAge || s.Inode != 0 || s.Timer != timerTimeWait || finTimeout == 0 {
		return
	}
	leftMs, timeoutMs := s.TimerTicks*10, finTimeout*1000
	if leftMs > timeoutMs {
		return // set by another timeout than ours: no bound
	}
	s.AgeMs, s.HasAge = uint32(min(timeoutMs-leftMs, 1<<32-1)), true
}

// timerTimeWait is the timer of a timewait socket in /proc/net/tcp and
// sock_diag (the "tr" column: 3).
const timerTimeWait = 3
