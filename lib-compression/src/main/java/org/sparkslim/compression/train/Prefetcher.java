package org.sparkslim.compression.train;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Pulls batches from an iterator on a background thread, a few ahead, so that reading and
 * augmenting the next batch overlaps with training on this one.
 */
final class Prefetcher<T> implements Iterator<T>, AutoCloseable {
    private static final Object END = new Object();

    private final BlockingQueue<Object> queue;
    private final Thread worker;
    private Object next;

    Prefetcher(Iterator<T> source, int depth, String name) {
        this.queue = new ArrayBlockingQueue<>(depth);
        this.worker = new Thread(() -> {
            try {
                while (source.hasNext()) {
                    queue.put(source.next());
                }
                queue.put(END);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                try {
                    queue.put(new Failure(t));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        }, name);
        worker.setDaemon(true);
        worker.start();
    }

    private record Failure(Throwable cause) {
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the next batch", e);
            }
        }
        if (next instanceof Failure f) {
            throw new IllegalStateException("reading a batch failed: " + f.cause().getMessage(), f.cause());
        }
        return next != END;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        T value = (T) next;
        next = null;
        return value;
    }

    @Override
    public void close() {
        worker.interrupt();
    }
}
