package io.github.mispcorrelator.wazuh;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.correlate.Correlation;
import io.github.mispcorrelator.correlate.EventSink;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sends events straight to analysisd's queue ({@code /var/ossec/queue/sockets/queue}), an AF_UNIX datagram socket,
 * as {@code 1:<location>:<json>} — what the integratord forwarder does, without a process per alert. Built on
 * Netty's epoll transport: it is the Netty that Vert.x already runs on, and it is non-blocking (junixsocket would add
 * a second native library for the same job).
 */
public final class AnalysisdSocket implements EventSink, AutoCloseable {
    private final EventLoopGroup group;
    private final Channel channel;
    private final DomainSocketAddress target;

    private AnalysisdSocket(EventLoopGroup group, Channel channel, DomainSocketAddress target) {
        this.group = group;
        this.channel = channel;
        this.target = target;
    }

    /**
     * @throws IllegalStateException when this platform has no epoll (not Linux x86-64) or the channel cannot open
     */
    public static AnalysisdSocket open(Path socket) {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("cannot write to analysisd's socket " + socket
                    + ": Netty epoll is not available here (" + Epoll.unavailabilityCause() + ")");
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel ch = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    // an unbound, unconnected datagram channel: it can send as soon as it is registered
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .register().syncUninterruptibly().channel();
            return new AnalysisdSocket(group, ch, new DomainSocketAddress(socket.toString()));
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot open a datagram channel for " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Sends the correlation's events ({@link WazuhEvents#of}); fails when analysisd did not take one of them. */
    @Override
    public Future<Void> deliver(Correlation c) {
        List<JsonObject> events = WazuhEvents.of(c);
        if (events.isEmpty()) {
            return Future.succeededFuture();
        }
        List<Future<Void>> sent = new ArrayList<>(events.size());
        for (JsonObject e : events) {
            sent.add(send(c.alert(), e));
        }
        return Future.all(sent).mapEmpty();
    }

    /** Sends one event; fails when analysisd is not listening (the socket is missing or refuses). */
    public Future<Void> send(Alert alert, JsonObject event) {
        byte[] message;
        try {
            message = AnalysisdMessage.format(alert, event);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        Promise<Void> sent = Promise.promise();
        channel.writeAndFlush(new DomainDatagramPacket(Unpooled.wrappedBuffer(message), target))
                .addListener(f -> {
                    if (f.isSuccess()) {
                        sent.complete();
                    } else {
                        sent.fail(new IllegalStateException("analysisd socket " + target.path() + ": "
                                + f.cause().getClass().getSimpleName() + " " + f.cause().getMessage(), f.cause()));
                    }
                });
        return sent.future();
    }

    public String path() {
        return target.path();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
