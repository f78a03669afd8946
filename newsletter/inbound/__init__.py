"""What comes back by mail: bounces, complaints and unsubscribes, read and acted on (issue #12)."""
