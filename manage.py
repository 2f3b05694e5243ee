#!/usr/bin/env python
from relay.manage import main

if __name__ == "__main__":
    main()
