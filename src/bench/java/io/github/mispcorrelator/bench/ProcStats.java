package io.github.mispcorrelator.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;

/** CPU and memory of processes as Linux reports them in {@code /proc}. Zeros where a process is gone. */
final class ProcStats {
    /** USER_HZ: 100 on every Linux x86-64 build; /proc counts CPU time in these ticks. */
    static final double TICKS_PER_SECOND = 100.0;

    private ProcStats() {
    }

    /** The fields of /proc/PID/stat after the command name, or null. Index 0 is field 3 (state). */
    private static String[] stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            return s.substring(s.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** User plus system CPU seconds of the process itself. */
    static double cpuSeconds(long pid) {
        String[] f = stat(pid);
        return f == null ? 0 : (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    }

    /** Also the CPU of children it has reaped (cutime, cstime). */
    static double cpuSecondsWithReaped(long pid) {
        String[] f = stat(pid);
        return f == null ? 0 : (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13])
                + Long.parseLong(f[14])) / TICKS_PER_SECOND;
    }

    /** CPU seconds of each thread of a process, by thread id, with the thread's (15-character) name. */
    static Map<Long, Map.Entry<String, Double>> threadCpuSeconds(long pid) {
        Map<Long, Map.Entry<String, Double>> out = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            tasks.forEach(t -> {
                try {
                    String s = Files.readString(t.resolve("stat"), StandardCharsets.UTF_8);
                    String name = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
                    out.put(Long.parseLong(t.getFileName().toString()), Map.entry(name, cpu));
                } catch (IOException | RuntimeException ignored) {
                    // the thread ended
                }
            });
        } catch (IOException ignored) {
            // the process ended
        }
        return out;
    }

    /** Every process's CPU seconds (with reaped children), name and parent: for "who else was busy". */
    record ProcCpu(String name, long parent, double cpu) {
    }

    static Map<Long, ProcCpu> allProcesses() {
        Map<Long, ProcCpu> out = new HashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                try {
                    String s = Files.readString(p.resolve("stat"), StandardCharsets.UTF_8);
                    String name = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13])
                            + Long.parseLong(f[14])) / TICKS_PER_SECOND;
                    out.put(Long.parseLong(p.getFileName().toString()), new ProcCpu(name, Long.parseLong(f[1]), cpu));
                } catch (IOException | RuntimeException ignored) {
                    // gone
                }
            });
        } catch (IOException ignored) {
            // no /proc
        }
        return out;
    }

    static long parent(long pid) {
        String[] f = stat(pid);
        return f == null ? -1 : Long.parseLong(f[1]);
    }

    /** A line of /proc/PID/status in KiB ({@code VmRSS}, {@code VmHWM}), or 0. */
    static long statusKib(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").strip());
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // gone
        }
        return 0;
    }

    /** Machine-wide busy and total CPU ticks (all cores) from /proc/stat. */
    static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[]{total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[]{0, 0};
        }
    }

    static List<Long> children(long pid) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .mapToLong(Long::parseLong).filter(p -> parent(p) == pid).forEach(out::add);
        } catch (IOException ignored) {
            // none
        }
        return out;
    }

    /** The first process whose command line contains {@code fragment} and whose name is {@code comm}. */
    static OptionalLong find(String comm, String fragment) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .mapToLong(Long::parseLong)
                    .filter(p -> comm.equals(read(p, "comm").strip()) && read(p, "cmdline").contains(fragment))
                    .findFirst();
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    private static String read(long pid, String file) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), file)), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** A PostgreSQL server and all its processes: postmaster (with the backends it reaped) plus live children. */
    static double postgresCpuSeconds(long postmaster) {
        if (postmaster <= 0) {
            return 0;
        }
        double total = cpuSecondsWithReaped(postmaster);
        for (long child : children(postmaster)) {
            total += cpuSeconds(child);
        }
        return total;
    }

    static String machineDescription() {
        String model = "unknown CPU";
        try {
            model = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(model);
        } catch (IOException ignored) {
            // keep unknown
        }
        long memKib = 0;
        try {
            memKib = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).orElse(0L);
        } catch (IOException ignored) {
            // keep 0
        }
        String kernel = "";
        try {
            kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException ignored) {
            // keep empty
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + model + "), "
                + Math.round(memKib / 1024.0 / 1024.0) + " GiB RAM, Linux " + kernel + ", Java "
                + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")";
    }
}
