// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// tcp_fill.h: a TCP socket's record as sockleak's programs write it, and
// how a full socket's fields are read (as sock_diag reads them).
#ifndef __SOCKLEAK_TCP_FILL_H__
#define __SOCKLEAK_TCP_FILL_H__

extern unsigned int CONFIG_HZ __kconfig;

enum {
	TCP_SYN_RECV = 3,
	TCP_TIME_WAIT = 6,
	TCP_LISTEN = 10,
	TCP_NEW_SYN_RECV = 12,
};

enum {
	ICSK_TIME_RETRANS = 1,
	ICSK_TIME_PROBE0 = 3,
	ICSK_TIME_LOSS_PROBE = 5,
	ICSK_TIME_REO_TIMEOUT = 6,
};

enum {
	KIND_FULL = 0,     // a full socket: times valid
	KIND_TIMEWAIT = 1, // TIME_WAIT, or an orphan in FIN_WAIT2
	KIND_REQUEST = 2,  // a half-open connection
};

// tcp_record is one socket; decodeTCPRecords reads it (88 bytes, native
// byte order but for the addresses, as the kernel holds them).
struct tcp_record {
	__u64 ino;
	__u32 netns;
	__u32 uid;
	__u32 rqueue;
	__u32 wqueue;
	__u32 expires_ms;
	__u32 last_data_sent; // ms, full sockets only
	__u32 last_data_recv;
	__u32 last_ack_recv;
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 state;
	__u8 timer;
	__u8 retrans;
	__u8 saddr[16]; // AF_INET: the first 4 bytes
	__u8 daddr[16];
	__u8 kind;
	__u8 pad[7];
};

// j2ms is the kernel's jiffies_to_msecs.
static __always_inline __u32 j2ms(__u64 j)
{
	__u64 hz = CONFIG_HZ;
	if (hz && 1000 % hz == 0)
		return (__u32)(j * (1000 / hz));
	return hz ? (__u32)(j * 1000 / hz) : 0;
}

// delta_ms is jiffies_delta_to_msecs: negative deltas are 0.
static __always_inline __u32 delta_ms(__u64 expires, __u64 now)
{
	__s64 d = (__s64)(expires - now);
	return d > 0 ? j2ms(d) : 0;
}

static __always_inline void put_addrs(struct tcp_record *r, struct sock_common *skc)
{
	if (r->family == AF_INET) {
		*(__u32 *)r->saddr = skc->skc_rcv_saddr;
		*(__u32 *)r->daddr = skc->skc_daddr;
		return;
	}
	for (int i = 0; i < 4; i++) {
		((__u32 *)r->saddr)[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
		((__u32 *)r->daddr)[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
	}
}

static __always_inline __u64 sock_ino(struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_ino))
		return sk->sk_ino;
	struct socket *so = sk->sk_socket;
	if (!so)
		return 0;
	struct socket_alloc *sa = (void *)so - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

// fill_full fills what inet_sk_diag_fill and tcp_diag_get_info give for a
// full socket, and tcp_info's times (tcp_get_info).
static __always_inline void fill_full(struct tcp_record *r, struct tcp_sock *tp, __u64 now)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &icsk->icsk_inet.sk;
	__u8 pending = icsk->icsk_pending;
	unsigned long timeout;
	if (bpf_core_field_exists(icsk->icsk_timeout))
		timeout = icsk->icsk_timeout;
	else
		timeout = icsk->icsk_retransmit_timer.expires;
	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT || pending == ICSK_TIME_LOSS_PROBE) {
		r->timer = 1;
		r->retrans = icsk->icsk_retransmits;
		r->expires_ms = delta_ms(timeout, now);
	} else if (pending == ICSK_TIME_PROBE0) {
		r->timer = 4;
		r->retrans = icsk->icsk_probes_out;
		r->expires_ms = delta_ms(timeout, now);
	} else if (sk->sk_timer.entry.pprev) {
		r->timer = 2;
		r->retrans = icsk->icsk_probes_out;
		r->expires_ms = delta_ms(sk->sk_timer.expires, now);
	}
	if (r->state == TCP_LISTEN) {
		r->rqueue = sk->sk_ack_backlog;
		r->wqueue = sk->sk_max_ack_backlog;
	} else {
		__s32 rq = (__s32)(tp->rcv_nxt - tp->copied_seq);
		r->rqueue = rq > 0 ? rq : 0;
		r->wqueue = tp->write_seq - tp->snd_una;
	}
	__u32 now32 = (__u32)now;
	r->last_data_sent = j2ms((__u32)(now32 - tp->lsndtime));
	r->last_data_recv = j2ms((__u32)(now32 - icsk->icsk_ack.lrcvtime));
	r->last_ack_recv = j2ms((__u32)(now32 - tp->rcv_tstamp));
	r->ino = sock_ino(sk);
}

#endif /* __SOCKLEAK_TCP_FILL_H__ */
