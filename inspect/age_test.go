package inspect

import (
	"testing"
)

func TestOrphanAge(t *testing.T) {
	orphan := Socket{State: FinWait2, Timer: timerTimeWait, TimerTicks: 5500} // 55 s left
	for _, tt := range []struct {
		name       string
		s          Socket
		finTimeout uint64
		want       uint32
		has        bool
	}{
		{"an orphan: the timeout less the time left", orphan, 60, 5000, true},
		{"just entered", Socket{State: FinWait2, Timer: timerTimeWait, TimerTicks: 6000}, 60, 0, true},
		{"tcp_fin_timeout unknown", orphan, 0, 0, false},
		{"more left than the timeout: not ours to bound", Socket{State: FinWait2, Timer: timerTimeWait, TimerTicks: 7000}, 60, 0, false},
		{"held by a process: tcp_info's to tell", Socket{State: FinWait2, Timer: timerTimeWait, TimerTicks: 5500, Inode: 9}, 60, 0, false},
		{"already bounded by tcp_info", Socket{State: FinWait2, Timer: timerTimeWait, TimerTicks: 5500, HasAge: true, AgeMs: 7}, 60, 7, true},
		{"another timer (a full socket's keepalive)", Socket{State: FinWait2, Timer: 2, TimerTicks: 5500}, 60, 0, false},
		{"TIME_WAIT is not FIN_WAIT2", Socket{State: TimeWait, Timer: timerTimeWait, TimerTicks: 5500}, 60, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			orphanAge(&s, tt.finTimeout)
			if s.HasAge != tt.has || s.AgeMs != tt.want {
				t.Errorf("age %d (known %v), want %d (%v)", s.AgeMs, s.HasAge, tt.want, tt.has)
			}
		})
	}
}
