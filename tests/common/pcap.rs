//! Writing simulated datagrams as a pcap file (for tshark).
