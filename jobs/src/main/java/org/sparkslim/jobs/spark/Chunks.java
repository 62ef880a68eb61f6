package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** A partition's items in lists of up to a batch size, taken as they are consumed (a partition is never held whole). */
final class Chunks {
    private Chunks() {
    }

    static <T> Iterator<List<T>> of(Iterator<T> items, int size) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return items.hasNext();
            }

            @Override
            public List<T> next() {
                if (!items.hasNext()) {
                    throw new NoSuchElementException();
                }
                List<T> chunk = new ArrayList<>(size);
                while (chunk.size() < size && items.hasNext()) {
                    chunk.add(items.next());
                }
                return chunk;
            }
        };
    }

    /** Each chunk mapped to a list of results, flattened, lazily. */
    static <T, R> Iterator<R> flatMap(Iterator<List<T>> chunks, java.util.function.Function<List<T>, List<R>> map) {
        return new Iterator<>() {
            private Iterator<R> current = List.<R>of().iterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && chunks.hasNext()) {
                    current = map.apply(chunks.next()).iterator();
                }
                return current.hasNext();
            }

            @Override
            public R next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }
}
