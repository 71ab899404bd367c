package io.github.mispcorrelator.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/** A Unix datagram socket standing in for analysisd's {@code queue/sockets/queue}: records every message. */
public final class FakeAnalysisd implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final Channel channel;
    private final ConcurrentLinkedQueue<String> messages = new ConcurrentLinkedQueue<>();
    private final Path path;

    public FakeAnalysisd(Path path) throws Exception {
        this.path = path;
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path);
        channel = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket msg) {
                        messages.add(new String(ByteBufUtil.getBytes(msg.content()), StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(path.toString())).sync().channel();
    }

    public Path path() {
        return path;
    }

    public List<String> messages() {
        return List.copyOf(messages);
    }

    /** Waits until at least {@code count} messages arrived (or the time is up) and returns them. */
    public List<String> await(int count, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (messages.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return messages();
    }

    @Override
    public void close() throws Exception {
        channel.close().await(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        Files.deleteIfExists(path);
    }
}
