"""DLPack interop: from_dlpack, Tensor.__dlpack__, Tensor.__dlpack_device__."""
