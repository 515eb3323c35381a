"""Sorting and selection: sort, argsort, topk, kthvalue, median, mode, unique, searchsorted, bucketize, histc."""
