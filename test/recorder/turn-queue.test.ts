import { describe, expect, it } from 'vitest'
import { BoundedQueue } from '../../src/recorder/turn-queue.js'

const item = (weight: number) => ({ weight })

describe('BoundedQueue', () => {
  it('refuses items beyond the count bound', () => {
    const queue = new BoundedQueue(2, 1_000)
    expect([queue.offer(item(1)), queue.offer(item(1)), queue.offer(item(1))]).toEqual([true, true, false])
    expect(queue.length).toBe(2)
  })

  it('refuses items beyond the byte bound but takes any single item when empty', () => {
    const queue = new BoundedQueue(100, 10)
    expect(queue.offer(item(50))).toBe(true)
    expect(queue.offer(item(1))).toBe(false)
    expect(queue.shift()).toEqual(item(50))
    expect([queue.offer(item(6)), queue.offer(item(4)), queue.offer(item(1))]).toEqual([true, true, false])
    expect(queue.bytes).toBe(10)
  })

  it('tracks bytes through shift and takeAll, and reports its fill level', () => {
    const queue = new BoundedQueue(4, 100)
    queue.push(item(30))
    queue.push(item(30))
    expect(queue.filledTo(0.5)).toBe(true)
    queue.shift()
    expect(queue.filledTo(0.5)).toBe(false)
    expect(queue.takeAll()).toEqual([item(30)])
    expect([queue.length, queue.bytes]).toEqual([0, 0])
  })
})

describe('BoundedQueue peak', () => {
  it('reports the most held since the last call, then restarts from what is held', () => {
    const queue = new BoundedQueue(100, 1_000)
    queue.offer(item(5))
    queue.offer(item(7))
    queue.shift()
    expect(queue.takePeak()).toEqual({ items: 2, bytes: 12 })
    expect(queue.takePeak()).toEqual({ items: 1, bytes: 7 })
    queue.takeAll()
    expect(queue.takePeak()).toEqual({ items: 1, bytes: 7 })
    expect(queue.takePeak()).toEqual({ items: 0, bytes: 0 })
  })
})
