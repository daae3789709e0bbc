// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// tcp_iter.c: sockleak's socket iterator. One pass over the TCP sockets of
// the reader's network namespace (net/ipv4/tcp_ipv4.c, iter/tcp) writes a
// fixed-size record per socket with the fields a sock_diag dump gives
// sockleak (net/ipv4/inet_diag.c, tcp_diag.c): the same state, queues,
// timer, uid and inode, and from tcp_info the times since the last data
// sent and received and the last ACK received, for full sockets.
#include "sockleak_vmlinux.h"
#include "bpf_helpers.h"
#include "bpf_core_read.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// state_mask selects the states written (1<<state, the state sock_diag
// reports: a timewait socket's substate, SYN_RECV's bit for a request
// socket's NEW_SYN_RECV as StateMask sets both); userspace sets it before
// each run.
__u32 state_mask = ~0u;

#include "tcp_fill.h"

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

SEC("iter/tcp")
int sockleak_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	if (!skc)
		return 0; // the end of the iteration
	struct tcp_record r = {};
	__u8 state = skc->skc_state;
	__u64 now = bpf_jiffies64();
	r.family = skc->skc_family;
	r.state = state;
	r.sport = skc->skc_num;
	r.dport = __builtin_bswap16(skc->skc_dport);
	r.netns = skc->skc_net.net->ns.inum;
	if (state == TCP_TIME_WAIT) {
		// Not bpf_skc_to_tcp_timewait_sock: it wants the socket's
		// proto to be tcp_prot or tcpv6_prot, and returns NULL for the
		// timewait sockets of accepted connections (Linux 6.18).
		struct inet_timewait_sock *tw = bpf_rdonly_cast(skc, bpf_core_type_id_kernel(struct inet_timewait_sock));
		r.kind = KIND_TIMEWAIT;
		r.state = tw->tw_substate;
		r.timer = 3;
		r.expires_ms = delta_ms(tw->tw_timer.expires, now);
	} else if (state == TCP_NEW_SYN_RECV) {
		struct tcp_request_sock *req = bpf_skc_to_tcp_request_sock(skc);
		if (!req)
			return 0;
		r.kind = KIND_REQUEST;
		r.state = TCP_SYN_RECV;
		r.timer = 1;
		r.retrans = req->req.req.num_retrans;
		r.expires_ms = delta_ms(req->req.req.rsk_timer.expires, now);
	} else {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
		if (!tp || !(state_mask & (1u << (state & 31))))
			return 0;
		r.uid = ctx->uid;
		fill_full(&r, tp, now);
		if (state == TCP_LISTEN) // tcp_get_info stops before the times
			r.last_data_sent = r.last_data_recv = r.last_ack_recv = 0;
	}
	if (!(state_mask & (1u << (state == TCP_NEW_SYN_RECV ? TCP_NEW_SYN_RECV : r.state & 31))))
		return 0;
	put_addrs(&r, skc);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
