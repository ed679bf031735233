set terminal pngcairo size 1000,700 font ",10"
set output "results/serve/fig15_att_lte_2016.png"
set multiplot layout 2,1 title "Fig. 15 (att_lte_2016): CamVid Seq05VD, 480x360 at 2 fps, capacity scaled to the frame size"
set ylabel "mIoU vs HR (%)"; set yrange [0:100]; set key top horizontal center; set grid
set style fill transparent solid 0.15 noborder
plot "results/serve/fig15_att_lte_2016.dat" using 1:($8*100) with boxes lc rgb "gray" title "tail content (HR ratio < threshold)", \
     "" using 1:2 with linespoints lw 2 lc rgb "#d62728" pt 7 ps 0.6 title "CAC (ASR + CAC)", \
     "" using 1:4 with linespoints lw 1 lc rgb "#1f77b4" pt 6 ps 0.6 title "ASR without CAC", \
     "" using 1:6 with linespoints lw 1 lc rgb "#ff7f0e" pt 6 ps 0.6 title "AWStream"
set ylabel "throughput (kbit/s)"; set xlabel "time (s)"; set yrange [0:*]; set key top horizontal center
plot "results/serve/fig15_att_lte_2016.dat" using 1:3 with steps lw 2 lc rgb "#d62728" title "CAC (ASR + CAC)", \
     "results/serve/fig15_att_lte_2016.dat" using 1:5 with steps lw 1 lc rgb "#1f77b4" title "ASR without CAC", \
     "results/serve/fig15_att_lte_2016.dat" using 1:7 with steps lw 1 lc rgb "#ff7f0e" title "AWStream"
unset multiplot
